// Command sched_cron prints the activation times robfig/cron v3 (the parser Go asynq's
// Scheduler uses) computes for cron specs.
//
// Input (stdin): a JSON array of {"spec", "location", "from_ns", "count"}; "location" is the
// scheduler's location (an IANA name, "" = UTC) and "from_ns" the Unix nanoseconds to start
// from. Output: one {"next": [unix seconds...]} or {"err": ...} per case; an unsatisfiable
// schedule ends its list with null (Go's zero time).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"
)

type input struct {
	Spec     string `json:"spec"`
	Location string `json:"location"`
	FromNS   int64  `json:"from_ns"`
	Count    int    `json:"count"`
}

type output struct {
	Next []*int64 `json:"next,omitempty"`
	Err  *string  `json:"err,omitempty"`
}

func run(c input) (out output) {
	defer func() {
		// robfig's parser panics on some malformed TZ prefixes; report that as an error.
		if r := recover(); r != nil {
			s := fmt.Sprintf("panic: %v", r)
			out = output{Err: &s}
		}
	}()
	loc := time.UTC
	if c.Location != "" {
		l, err := time.LoadLocation(c.Location)
		if err != nil {
			s := err.Error()
			return output{Err: &s}
		}
		loc = l
	}
	sched, err := cron.ParseStandard(c.Spec)
	if err != nil {
		s := err.Error()
		return output{Err: &s}
	}
	t := time.Unix(0, c.FromNS).In(loc)
	next := []*int64{}
	for i := 0; i < c.Count; i++ {
		t = sched.Next(t)
		if t.IsZero() {
			next = append(next, nil)
			break
		}
		u := t.Unix()
		next = append(next, &u)
	}
	return output{Next: next}
}

func main() {
	var cases []input
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := make([]output, 0, len(cases))
	for _, c := range cases {
		out = append(out, run(c))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
