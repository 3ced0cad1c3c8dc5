// summarize reads `go tool test2json` events of the conformance run on stdin, prints the test output as `go test -v`
// would (so the console looks as usual), and at the end writes a work list to the file named by its argument: every
// failed or skipped test of the suite, with the exact failure lines (testify's Error blocks, t.Fatal/t.Error lines)
// or skip reason. Exit status 0; the caller takes the suite's verdict from the report and the test binary's status.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
)

type event struct {
	Time    time.Time
	Action  string
	Test    string
	Output  string
	Elapsed float64
}

type result struct {
	name    string
	action  string
	elapsed float64
	output  []string
	partial string
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: summarize WORKLIST.md < test2json")
		os.Exit(2)
	}
	results := map[string]*result{}
	var order []string
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			var e event
			if json.Unmarshal(line, &e) != nil {
				out.Write(line) // not an event: pass through
			} else {
				if e.Action == "output" {
					out.WriteString(e.Output)
				}
				if e.Test != "" {
					r := results[e.Test]
					if r == nil {
						r = &result{name: e.Test}
						results[e.Test] = r
						order = append(order, e.Test)
					}
					switch e.Action {
					case "output":
						// test2json splits long lines into several events; only an event ending in a newline ends a line
						r.partial += e.Output
						if strings.HasSuffix(r.partial, "\n") {
							r.output = append(r.output, strings.TrimRight(r.partial, "\n"))
							r.partial = ""
						}
					case "pass", "fail", "skip":
						r.action, r.elapsed = e.Action, e.Elapsed
					}
				}
			}
			if strings.HasSuffix(string(line), "\n") {
				out.Flush()
			}
		}
		if err != nil {
			break
		}
	}
	out.Flush()

	// The suite's tests are TestConformance/<ShortName>; deeper names are their subtests.
	type entry struct {
		short  string
		action string
		lines  []string
	}
	byShort := map[string]*entry{}
	var shorts []string
	passed := 0
	for _, name := range order {
		r := results[name]
		parts := strings.SplitN(name, "/", 3)
		if len(parts) < 2 || parts[0] != "TestConformance" {
			continue
		}
		short := parts[1]
		if len(parts) == 2 && r.action == "pass" {
			passed++
		}
		if r.action != "fail" && r.action != "skip" {
			continue
		}
		e := byShort[short]
		if e == nil {
			e = &entry{short: short}
			byShort[short] = e
			shorts = append(shorts, short)
		}
		if len(parts) == 2 {
			e.action = r.action
		}
		if lines := failureLines(r); len(lines) > 0 {
			if len(parts) == 3 {
				e.lines = append(e.lines, "["+parts[2]+"]")
			}
			e.lines = append(e.lines, lines...)
		}
	}
	sort.Strings(shorts)
	var b strings.Builder
	var failed, skipped []string
	for _, s := range shorts {
		switch byShort[s].action {
		case "fail":
			failed = append(failed, s)
		case "skip":
			skipped = append(skipped, s)
		}
	}
	top := results["TestConformance"]
	fmt.Fprintf(&b, "# Conformance run: work list\n\nTestConformance: %s. Suite tests passed: %d, failed: %d, skipped: %d.\n",
		actionOr(top), passed, len(failed), len(skipped))
	if top != nil && top.action == "fail" && len(failed) == 0 {
		fmt.Fprintf(&b, "\nTestConformance itself failed (Setup or the suite's own checks):\n\n```\n%s\n```\n",
			strings.Join(failureLines(top), "\n"))
	}
	for _, group := range []struct {
		title string
		names []string
	}{{"Failed", failed}, {"Skipped", skipped}} {
		if len(group.names) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n", group.title, len(group.names))
		for _, s := range group.names {
			fmt.Fprintf(&b, "\n### %s\n\n```\n%s\n```\n", s, strings.Join(byShort[s].lines, "\n"))
		}
	}
	if err := os.WriteFile(os.Args[1], []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

func actionOr(r *result) string {
	if r == nil || r.action == "" {
		return "did not finish"
	}
	return r.action
}

// failureLines picks what says why a test failed or was skipped: testify's Error blocks (Error Trace / Error /
// Messages and their continuation lines), each with the few distinct log lines just before it, and the lines before a
// skip verdict. Repeated polling lines are collapsed (timestamps ignored). If nothing matches, the last lines.
func failureLines(r *result) []string {
	type line struct {
		raw, norm string
		n         int
	}
	var lines []line
	for _, l := range r.output {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") {
			continue
		}
		norm := normalize(t)
		if k := len(lines); k > 0 && lines[k-1].norm == norm {
			lines[k-1].n++
			continue
		}
		lines = append(lines, line{raw: l, norm: norm, n: 1})
	}
	show := func(l line) string {
		t := strings.TrimSpace(l.raw)
		if strings.HasPrefix(l.raw, "        \t") && !strings.HasPrefix(t, "Error Trace:") && !strings.HasPrefix(t, "Error:") &&
			!strings.HasPrefix(t, "Test:") && !strings.HasPrefix(t, "Messages:") {
			t = "    " + t
		}
		if l.n > 1 {
			t += fmt.Sprintf("   [repeated %d times until %s]", l.n, lastTS(r.output, l.norm))
		}
		return t
	}
	var keep []string
	kept := map[int]bool{}
	add := func(i int) {
		if i >= 0 && i < len(lines) && !kept[i] {
			kept[i] = true
			keep = append(keep, show(lines[i]))
		}
	}
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i].raw)
		switch {
		case strings.HasPrefix(t, "Error Trace:"):
			// context: up to 3 log lines before the testify block (its header "file.go:NN:" is the line just before)
			for j := max(0, i-4); j < i; j++ {
				add(j)
			}
			add(i)
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1].raw, "        \t") {
				i++
				add(i)
			}
		case strings.HasPrefix(t, "--- SKIP"):
			for j := max(0, i-2); j <= i; j++ {
				add(j)
			}
		case strings.HasPrefix(t, "--- FAIL"):
			add(i)
		}
	}
	if len(keep) <= 1 { // only the verdict line: fall back to the tail
		keep = nil
		for _, l := range lines[max(0, len(lines)-10):] {
			keep = append(keep, show(l))
		}
	}
	return keep
}

// normalize drops what changes between two attempts of the same poll: timestamps and "(after 12.3s)".
func normalize(t string) string {
	return httpDate.ReplaceAllString(afterSuffix.ReplaceAllString(tsPrefix.ReplaceAllString(t, ""), ""), "<date>")
}

var httpDate = regexp.MustCompile(`[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT`)

var afterSuffix = regexp.MustCompile(` \(after [0-9.]+[a-zµ]+\)`)

var tsPrefix = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?:? ?`)

func lastTS(output []string, norm string) string {
	for i := len(output) - 1; i >= 0; i-- {
		t := strings.TrimSpace(output[i])
		if normalize(t) == norm {
			if m := tsPrefix.FindString(t); m != "" {
				return strings.TrimRight(m, ": ")
			}
			return "?"
		}
	}
	return "?"
}
