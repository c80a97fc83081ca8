package seed

// The word lists the generator draws from. Placeholders in templates:
// {c} and {c2} are two concepts of the current topic, {t} is the topic's name,
// {n} a small number and {name} another person's first name.

// topicSpec describes one seeded topic and the vocabulary of its posts and courses.
type topicSpec struct {
	name        string
	description string
	lang        string // code block language ("" for no code)
	concepts    []string
	courses     []string
	snippets    []string
}

var topicSpecs = []topicSpec{
	{
		name:        "Go",
		description: "Concurrency, tooling and the standard library of the Go programming language.",
		lang:        "go",
		concepts: []string{"goroutines", "channels", "context cancellation", "generics", "interfaces",
			"error wrapping", "the race detector", "escape analysis", "the garbage collector",
			"table-driven tests", "module versioning", "sync.Pool", "struct embedding",
			"the net/http server", "pprof profiling", "worker pools", "select statements", "slices and maps"},
		courses: []string{"Go Fundamentals", "Concurrency in Go", "Building REST APIs with Go", "Go Performance Tuning"},
		snippets: []string{
			"func worker(ctx context.Context, jobs <-chan Job) error {\n\tfor {\n\t\tselect {\n\t\tcase <-ctx.Done():\n\t\t\treturn ctx.Err()\n\t\tcase j := <-jobs:\n\t\t\tif err := j.Run(); err != nil {\n\t\t\t\treturn fmt.Errorf(\"job %d: %w\", j.ID, err)\n\t\t\t}\n\t\t}\n\t}\n}",
			"func TestParse(t *testing.T) {\n\ttests := []struct {\n\t\tin   string\n\t\twant int\n\t}{\n\t\t{\"1\", 1},\n\t\t{\"42\", 42},\n\t}\n\tfor _, tt := range tests {\n\t\tif got := Parse(tt.in); got != tt.want {\n\t\t\tt.Errorf(\"Parse(%q) = %d, want %d\", tt.in, got, tt.want)\n\t\t}\n\t}\n}",
			"var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}\n\nfunc render(w io.Writer, v any) error {\n\tbuf := bufPool.Get().(*bytes.Buffer)\n\tdefer func() { buf.Reset(); bufPool.Put(buf) }()\n\tif err := json.NewEncoder(buf).Encode(v); err != nil {\n\t\treturn err\n\t}\n\t_, err := buf.WriteTo(w)\n\treturn err\n}",
		},
	},
	{
		name:        "JavaScript",
		description: "The language of the web, from closures to the event loop.",
		lang:        "javascript",
		concepts: []string{"closures", "the event loop", "promises", "async/await", "prototypes", "ES modules",
			"iterators and generators", "Proxy objects", "WeakMap", "the Fetch API", "destructuring",
			"optional chaining", "Web Workers", "tagged templates", "Intl formatting"},
		courses: []string{"Modern JavaScript", "JavaScript: The Tricky Parts", "Async JavaScript in Depth"},
		snippets: []string{
			"async function fetchJSON(url, { timeout = 5000 } = {}) {\n  const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });\n  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);\n  return res.json();\n}",
			"function memoize(fn) {\n  const cache = new Map();\n  return (key) => {\n    if (!cache.has(key)) cache.set(key, fn(key));\n    return cache.get(key);\n  };\n}",
		},
	},
	{
		name:        "Node.js",
		description: "Server-side JavaScript: streams, workers and running Node in production.",
		lang:        "javascript",
		concepts: []string{"streams", "the cluster module", "worker threads", "backpressure", "npm workspaces",
			"Express middleware", "the fs/promises API", "AbortController", "the built-in test runner",
			"environment configuration", "graceful shutdown", "native ESM", "buffers", "diagnostics channels"},
		courses: []string{"Node.JS", "Node.js Streams and Performance", "Production Node.js"},
		snippets: []string{
			"import { pipeline } from 'node:stream/promises';\nimport { createReadStream, createWriteStream } from 'node:fs';\nimport { createGzip } from 'node:zlib';\n\nawait pipeline(\n  createReadStream('access.log'),\n  createGzip(),\n  createWriteStream('access.log.gz'),\n);",
			"process.on('SIGTERM', async () => {\n  server.close();\n  await db.end();\n  process.exit(0);\n});",
		},
	},
	{
		name:        "Kubernetes",
		description: "Containers at scale: workloads, networking and operating clusters.",
		lang:        "yaml",
		concepts: []string{"pods", "deployments", "Helm charts", "operators", "ingress controllers",
			"horizontal pod autoscaling", "liveness probes", "ConfigMaps", "network policies", "StatefulSets",
			"resource limits", "service meshes", "RBAC", "rolling updates", "custom resource definitions"},
		courses: []string{"Kubernetes", "Kubernetes for Developers", "Running Kubernetes in Production"},
		snippets: []string{
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 3\n  selector:\n    matchLabels: { app: api }\n  template:\n    metadata:\n      labels: { app: api }\n    spec:\n      containers:\n        - name: api\n          image: registry.example.com/api:1.4.2\n          resources:\n            limits: { cpu: 500m, memory: 256Mi }",
			"livenessProbe:\n  httpGet:\n    path: /healthz\n    port: 8080\n  initialDelaySeconds: 5\n  periodSeconds: 10",
		},
	},
	{
		name:        "Databases",
		description: "SQL, indexes, transactions and keeping data fast and correct.",
		lang:        "sql",
		concepts: []string{"indexes", "query plans", "transactions", "isolation levels", "connection pooling",
			"table partitioning", "SQLite WAL mode", "schema migrations", "N+1 queries", "replication",
			"full-text search", "write-ahead logs", "deadlocks", "materialized views"},
		courses: []string{"SQL from Scratch", "PostgreSQL Performance", "Data Modeling for Developers"},
		snippets: []string{
			"CREATE INDEX idx_orders_customer_created\n    ON orders (customer_id, created_at DESC);\n\nEXPLAIN ANALYZE\nSELECT id, total\n  FROM orders\n WHERE customer_id = $1\n ORDER BY created_at DESC\n LIMIT 20;",
			"BEGIN;\nUPDATE accounts SET balance = balance - 100 WHERE id = 1;\nUPDATE accounts SET balance = balance + 100 WHERE id = 2;\nCOMMIT;",
		},
	},
	{
		name:        "Security",
		description: "Building software that holds up against real attackers.",
		lang:        "http",
		concepts: []string{"cross-site scripting", "CSRF tokens", "content security policy", "password hashing",
			"OAuth2 flows", "JWT pitfalls", "SQL injection", "rate limiting", "secrets management",
			"dependency audits", "threat modeling", "TLS certificates", "session fixation", "SSRF"},
		courses: []string{"Web Security Essentials", "Secure Coding Bootcamp", "OAuth2 and OpenID Connect"},
		snippets: []string{
			"HTTP/1.1 200 OK\nContent-Security-Policy: default-src 'self'; img-src 'self' data:; object-src 'none'\nStrict-Transport-Security: max-age=63072000; includeSubDomains\nX-Content-Type-Options: nosniff\nReferrer-Policy: strict-origin-when-cross-origin",
			"POST /oauth/token HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&code_verifier=dBjftJeZ4CVP",
		},
	},
	{
		name:        "DevOps",
		description: "Delivery pipelines, infrastructure as code and observability.",
		lang:        "yaml",
		concepts: []string{"CI pipelines", "infrastructure as code", "Terraform modules", "blue-green deployments",
			"feature flags", "observability", "structured logging", "incident postmortems",
			"multi-stage Docker builds", "GitHub Actions", "SLOs and error budgets", "canary releases", "on-call rotations"},
		courses: []string{"DevOps Foundations", "CI/CD Pipelines", "Observability in Practice"},
		snippets: []string{
			"name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make test\n      - run: make lint",
			"FROM golang:1.24 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n\nFROM gcr.io/distroless/static\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]",
		},
	},
	{
		name:        "Python",
		description: "Python for services, scripting and data work.",
		lang:        "python",
		concepts: []string{"type hints", "asyncio", "decorators", "context managers", "dataclasses",
			"virtual environments", "pytest fixtures", "the GIL", "generators", "FastAPI",
			"pyproject.toml packaging", "pandas dataframes", "list comprehensions"},
		courses: []string{"Python for Programmers", "Async Python", "Data Analysis with Python"},
		snippets: []string{
			"from dataclasses import dataclass\n\n@dataclass(frozen=True)\nclass Point:\n    x: float\n    y: float\n\n    def dist(self, other: \"Point\") -> float:\n        return ((self.x - other.x) ** 2 + (self.y - other.y) ** 2) ** 0.5",
			"import asyncio\n\nasync def main(urls):\n    async with httpx.AsyncClient(timeout=5) as client:\n        results = await asyncio.gather(*(client.get(u) for u in urls))\n    return [r.status_code for r in results]",
		},
	},
	{
		name:        "Rust",
		description: "Fast, safe systems programming with Rust.",
		lang:        "rust",
		concepts: []string{"ownership", "borrowing", "lifetimes", "traits", "async Rust with Tokio",
			"error handling with Result", "pattern matching", "cargo workspaces", "smart pointers",
			"unsafe code", "declarative macros", "iterators", "the borrow checker", "Serde"},
		courses: []string{"Rust in Depth", "Rust for Go Developers", "Systems Programming with Rust"},
		snippets: []string{
			"fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {\n    if a.len() >= b.len() { a } else { b }\n}",
			"#[derive(Debug, Deserialize)]\nstruct Config {\n    listen: String,\n    workers: usize,\n}\n\nfn load(path: &Path) -> Result<Config, Box<dyn Error>> {\n    let text = fs::read_to_string(path)?;\n    Ok(toml::from_str(&text)?)\n}",
		},
	},
	{
		name:        "Frontend",
		description: "Interfaces people enjoy: CSS, frameworks, performance and accessibility.",
		lang:        "typescript",
		concepts: []string{"CSS grid", "React hooks", "server-side rendering", "web accessibility",
			"Core Web Vitals", "state management", "design systems", "TypeScript generics", "hydration",
			"lazy loading", "Svelte stores", "form validation", "responsive images"},
		courses: []string{"Frontend Foundations", "React in Practice", "Accessible Web Interfaces"},
		snippets: []string{
			"function useDebounced<T>(value: T, delay = 300): T {\n  const [debounced, setDebounced] = useState(value);\n  useEffect(() => {\n    const id = setTimeout(() => setDebounced(value), delay);\n    return () => clearTimeout(id);\n  }, [value, delay]);\n  return debounced;\n}",
			"const observer = new IntersectionObserver((entries) => {\n  for (const e of entries) {\n    if (e.isIntersecting) (e.target as HTMLImageElement).src = e.target.dataset.src!;\n  }\n});",
		},
	},
	{
		name:        "Testing",
		description: "Tests that catch bugs without slowing the team down.",
		lang:        "typescript",
		concepts: []string{"unit tests", "integration tests", "property-based testing", "fuzzing", "test doubles",
			"snapshot testing", "end-to-end tests", "flaky tests", "code coverage", "contract testing",
			"mutation testing", "test fixtures", "load testing"},
		courses: []string{"Testing Fundamentals", "End-to-End Testing with Playwright", "Test-Driven Development"},
		snippets: []string{
			"test('signs in and sees the dashboard', async ({ page }) => {\n  await page.goto('/login');\n  await page.getByLabel('Email').fill('student@lectern.dev');\n  await page.getByLabel('Password').fill('lectern-demo');\n  await page.getByRole('button', { name: 'Sign in' }).click();\n  await expect(page.getByRole('heading', { name: 'My courses' })).toBeVisible();\n});",
			"describe('slugify', () => {\n  it('drops punctuation', () => {\n    expect(slugify('Hello, World!')).toBe('hello-world');\n  });\n});",
		},
	},
	{
		name:        "Career",
		description: "Growing as an engineer: interviews, reviews, mentoring and leadership.",
		concepts: []string{"code reviews", "technical interviews", "mentoring", "design docs", "salary negotiation",
			"remote work", "burnout", "the staff engineer path", "public speaking", "open source contributions",
			"estimates", "side projects", "onboarding"},
		courses: []string{"Engineering Career Accelerator", "Technical Interview Prep", "From Senior to Staff"},
	},
}

var titleTemplates = []string{
	"Understanding {c} in {t}",
	"A practical guide to {c}",
	"{c}: what every {t} developer should know",
	"How we cut latency in half with {c}",
	"Debugging {c} in production",
	"{c}, explained",
	"Getting started with {c}",
	"Ten things I wish I knew about {c}",
	"Why you should care about {c}",
	"{c} vs {c2}: choosing the right tool",
	"Lessons learned from adopting {c}",
	"The hidden cost of {c}",
	"Testing {c} the right way",
	"Scaling {c} beyond the first million users",
	"{c} patterns for {t} teams",
	"A deep dive into {c}",
	"From zero to {c} in an afternoon",
	"Refactoring legacy code with {c}",
	"Common mistakes with {c} and how to avoid them",
	"What {c2} taught us about {c}",
	"Rethinking {c} in {t}",
	"{c} without the pain",
	"The {t} engineer's checklist for {c}",
	"When not to use {c}",
}

var headingTemplates = []string{
	"Why bother with {c}", "The problem", "A first example", "{c} under the hood",
	"Common pitfalls", "Putting {c} into production", "Measuring the impact", "When not to use {c}",
	"{c} and {c2} together", "Testing it", "What we learned", "The trade-offs", "A closer look at {c2}",
	"Setting things up", "Going further",
}

var sentenceTemplates = []string{
	"Most teams meet {c} long before they really understand it.",
	"The first time we leaned on {c} in production, our p99 latency dropped by {n}%.",
	"It is tempting to reach for {c2} instead, but the trade-offs are different.",
	"In {t}, there is less magic in {c} than it seems: a handful of rules explain almost everything.",
	"The documentation covers the happy path; the interesting part is what happens under load.",
	"Notice how little code this takes once the pieces are in place.",
	"The trick is to keep {c} at the edges of the system and the core boring.",
	"We measured before and after, and the numbers were hard to argue with.",
	"If you only remember one thing, remember that {c} and {c2} solve different problems.",
	"None of this is new, but it is easy to forget when a deadline is close.",
	"Start with the simplest version that works, then profile.",
	"Our on-call rotation noticed the difference within a week.",
	"Code review is where most mistakes with {c} get caught, if reviewers know what to look for.",
	"Read the error messages carefully; {t} tooling is usually telling you exactly what went wrong.",
	"There is a surprising amount of folklore around {c}, and some of it is simply outdated.",
	"The good news is that {t} gives you solid building blocks for this.",
	"Benchmarks on a laptop rarely match production, so test with realistic data.",
	"After {n} iterations, the design settled into something the whole team could reason about.",
	"Keep an eye on memory usage when you combine {c} with large inputs.",
	"The naive approach works until roughly {n} thousand requests per minute.",
	"Pair {c} with good logging and most incidents become short.",
	"Newer colleagues often ask why we bother; the answer is maintenance cost.",
	"Every abstraction leaks eventually, {c} included.",
	"Write the test first and the shape of the API tends to follow.",
	"The documentation for {c2} has improved a lot in the last few releases.",
	"We rolled the change out behind a feature flag to {n}% of traffic first.",
	"That is fine for a prototype, but it will hurt once the data grows.",
	"It took us {n} weeks to untangle the first version.",
	"Small, boring steps beat one heroic rewrite every time.",
	"This is also where the time spent on {c2} pays for itself.",
	"You can get surprisingly far with the defaults.",
	"The failure modes are more interesting than the success path.",
}

var tipTemplates = []string{
	"Measure before you optimise {c}.",
	"Keep {c} behind a small interface.",
	"Write a regression test for every bug you fix.",
	"Prefer boring defaults and document the exceptions.",
	"Log enough context to debug {c} without a debugger.",
	"Read the {t} release notes before every upgrade.",
	"Automate the checks you keep forgetting.",
	"Review the {c2} configuration together with the code.",
	"Set timeouts on everything that talks to the network.",
	"Delete code you no longer need.",
	"Make the slow path observable.",
	"Agree on conventions for {c} once, in writing.",
}

var quoteTemplates = []string{
	"Make it work, make it right, make it fast, in that order.",
	"The best code is the code you never had to write.",
	"Simple is not the same as easy, and working with {c} proves it.",
	"If it hurts, do it more often.",
}

var commentTemplates = []string{
	"Great write-up, thanks!",
	"This finally made {c} click for me.",
	"We hit exactly this problem with {c} last month.",
	"Have you tried {c2} for this? Curious how it compares.",
	"I'd add that older {t} versions handle {c} a little differently.",
	"Bookmarked. The part about {c2} was especially useful.",
	"Not sure I agree with the benchmark section; the sample seems small.",
	"Could you share the full example somewhere?",
	"Clear and to the point. More posts like this, please.",
	"We rolled out something similar and our on-call load dropped noticeably.",
	"Small typo in the second code block, otherwise excellent.",
	"How does this play with {c2}?",
	"Saved me an afternoon of debugging, thank you.",
	"Interesting take. Our team went the other way and kept {c} out of the hot path.",
	"Sharing this with my team.",
	"Would love a follow-up on testing {c}.",
	"This is the clearest explanation of {c} I have read.",
}

var replyTemplates = []string{
	"Good point, {name}.",
	"Thanks {name}, I'll update the post.",
	"Same experience here.",
	"{name}, we measured about {n}% on our side.",
	"Agreed, with one caveat: it depends on the workload.",
	"That's fair; the sample was small.",
	"+1, this tripped us up too.",
	"The full example is linked at the end of the post.",
	"We tried {c2} first and switched back, for what it's worth.",
	"Exactly what I was going to say.",
}

var reviewTemplates = [6][]string{
	1: {"Not what the description promised.", "The examples did not run and questions went unanswered.", "Too basic and too slow."},
	2: {"The material is outdated in places.", "Too much theory, not enough practice.", "Some lessons on {c} felt unfinished."},
	3: {"Decent overview, but shallow on {c}.", "Fine for beginners; experienced developers can skip the first half.", "Good content, uneven pace."},
	4: {"Solid course; a few lessons felt rushed.", "Good pace, I would have liked more exercises on {c}.", "Practical and well organised.", "The {c} module was the highlight."},
	5: {"Excellent course, the {c} module alone was worth it.", "Clear explanations and realistic projects.", "The best {t} course I have taken.", "Changed how I work with {c} every day.", "Great instructor, great exercises."},
}

var lessonTemplates = []string{
	"{c} basics", "Hands-on: {c}", "Deep dive: {c}", "Working with {c2}", "Debugging {c}",
	"{c} in practice", "Exercise: {c}", "Case study: {c}", "Patterns for {c}", "{c} and {c2}",
}

var courseLearnTemplates = []string{
	"Use {c} confidently in real projects.",
	"Understand how {c} and {c2} fit together.",
	"Debug and test {c} like a professional.",
	"Ship a complete project built with {t}.",
	"Avoid the most common mistakes with {c2}.",
	"Read and review {t} code written by others.",
}

var bioTemplates = []string{
	"Backend developer who likes {t} and long walks through stack traces.",
	"Learning {t} one side project at a time.",
	"Software engineer, {t} enthusiast, occasional speaker.",
	"Writes about {t}, teams and shipping software.",
	"Former sysadmin, now building things with {t}.",
	"Curious about everything {t}. Coffee-driven.",
	"Helping developers get better at {t}.",
}

var firstNames = []string{
	"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia", "Guido",
	"Frances", "Rob", "Katherine", "Bjarne", "Hedy", "Anders", "Sophie", "James", "Lynn", "Brendan",
	"Joan", "Yukihiro", "Karen", "Rasmus", "Shafi", "Tim", "Annie", "Donald", "Evelyn", "Niklaus",
	"Mary", "John", "Priya", "Mateo", "Aisha", "Kenji", "Olga", "Tariq", "Lucia", "Noah",
	"Amara", "Lars", "Mei", "Diego", "Fatima", "Elena", "Omar", "Ingrid", "Ravi", "Zoe",
}

var lastNames = []string{
	"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Perlman", "van Rossum",
	"Allen", "Pike", "Johnson", "Stroustrup", "Lamarr", "Hejlsberg", "Wilson", "Gosling", "Conway", "Eich",
	"Clarke", "Matsumoto", "Jones", "Lerdorf", "Goldwasser", "Berners-Lee", "Easley", "Knuth", "Boyd", "Wirth",
	"Keller", "Backus", "Patel", "Garcia", "Okafor", "Tanaka", "Ivanova", "Haddad", "Rossi", "Schmidt",
	"Nguyen", "Larsen", "Chen", "Silva", "Khan", "Popescu", "Farouk", "Berg", "Sharma", "Martin",
}
