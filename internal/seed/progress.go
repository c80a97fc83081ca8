package seed

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws one overall bar on a terminal, redrawn at most ten times a
// second, or writes plain lines elsewhere (logs, CI) — one per finished
// collection and one every few seconds within a long one — so a redirected
// stderr never fills with carriage returns and never goes quiet for long.
type progress struct {
	w       io.Writer
	animate bool

	estimate               map[string]int // records expected per collection, until its stage says
	total, done            int
	name                   string
	stageTotal, stageCount int
	start, stageStart      time.Time
	lastDraw, lastLine     time.Time
}

// lineEvery is how often a plain-line progress reports within a collection
// (a variable for the test).
var lineEvery = 3 * time.Second

func newProgress(w io.Writer, animate bool, estimate map[string]int) *progress {
	if w == nil {
		w = io.Discard
		animate = false
	}
	total := 0
	for _, n := range estimate {
		total += n
	}
	now := time.Now()
	return &progress{w: w, animate: animate, estimate: estimate, total: total, start: now}
}

func (p *progress) stage(name string, total int) {
	p.total += total - p.estimate[name]
	p.estimate[name] = total
	p.name, p.stageTotal, p.stageCount, p.stageStart, p.lastLine = name, total, 0, time.Now(), time.Now()
	p.draw(true)
}

func (p *progress) add(n int) {
	p.done += n
	p.stageCount += n
	if !p.animate && p.stageCount < p.stageTotal && time.Since(p.lastLine) >= lineEvery {
		p.lastLine = time.Now()
		el := time.Since(p.stageStart)
		fmt.Fprintf(p.w, "seed: %-11s %7d of %d so far (%s/s)\n", p.name, p.stageCount, p.stageTotal, rate(p.stageCount, el))
	}
	p.draw(false)
}

func (p *progress) stageDone() {
	if p.animate {
		p.draw(true)
		return
	}
	el := time.Since(p.stageStart)
	fmt.Fprintf(p.w, "seed: %-11s %7d in %6.1fs (%s/s)  [%d/%d records]\n",
		p.name, p.stageCount, el.Seconds(), rate(p.stageCount, el), p.done, p.total)
}

func (p *progress) finish() {
	if p.animate {
		p.draw(true)
		fmt.Fprintln(p.w)
	}
}

// abort ends the bar's line so an error message starts on its own.
func (p *progress) abort() {
	if p.animate {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw(force bool) {
	if !p.animate {
		return
	}
	now := time.Now()
	if !force && now.Sub(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.lastDraw = now
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
	}
	filled := int(frac * width)
	el := now.Sub(p.start)
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %3.0f%%  %-11s %d/%d  %s/s  %s",
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), 100*frac,
		p.name, p.stageCount, p.stageTotal, rate(p.done, el), el.Truncate(time.Second))
}

func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}
