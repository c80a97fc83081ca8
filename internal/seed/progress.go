package seed

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws one overall bar on a terminal, redrawn at most ten times a
// second, or writes one plain line per finished collection elsewhere (logs,
// CI), so a redirected stderr never fills with carriage returns.
type progress struct {
	w       io.Writer
	animate bool

	total, done            int
	name                   string
	stageTotal, stageCount int
	start, stageStart      time.Time
	lastDraw               time.Time
}

func newProgress(w io.Writer, animate bool, total int) *progress {
	if w == nil {
		w = io.Discard
		animate = false
	}
	now := time.Now()
	return &progress{w: w, animate: animate, total: total, start: now}
}

func (p *progress) stage(name string, total int) {
	p.name, p.stageTotal, p.stageCount, p.stageStart = name, total, 0, time.Now()
	p.draw(true)
}

func (p *progress) add(n int) {
	p.done += n
	p.stageCount += n
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
