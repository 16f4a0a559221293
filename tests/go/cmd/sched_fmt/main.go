// Command sched_fmt prints Go's text forms that the scheduler stores: Option.String(),
// time.Duration.String(), time.ParseDuration, strconv.Quote/Unquote and time.UnixDate.
//
// Input (stdin): a JSON array of cases {"kind": ..., "name": ..., "s": ..., "n": ..., "ns": ...,
// "unix": ...}. Output (stdout): a JSON array with one {"out": ...} or {"err": ...} per case.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

type input struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	S    string `json:"s"`
	N    int    `json:"n"`
	NS   int64  `json:"ns"`
	Unix int64  `json:"unix"`
}

type output struct {
	Out *string `json:"out,omitempty"`
	NS  *int64  `json:"ns,omitempty"`
	Err *string `json:"err,omitempty"`
}

func option(c input) (asynq.Option, error) {
	d := time.Duration(c.NS)
	t := time.Unix(c.Unix, 0).UTC()
	switch c.Name {
	case "MaxRetry":
		return asynq.MaxRetry(c.N), nil
	case "Queue":
		return asynq.Queue(c.S), nil
	case "Timeout":
		return asynq.Timeout(d), nil
	case "Deadline":
		return asynq.Deadline(t), nil
	case "Unique":
		return asynq.Unique(d), nil
	case "ProcessAt":
		return asynq.ProcessAt(t), nil
	case "ProcessIn":
		return asynq.ProcessIn(d), nil
	case "TaskID":
		return asynq.TaskID(c.S), nil
	case "Retention":
		return asynq.Retention(d), nil
	case "Group":
		return asynq.Group(c.S), nil
	}
	return nil, fmt.Errorf("unknown option %q", c.Name)
}

func run(c input) output {
	str := func(s string) output { return output{Out: &s} }
	fail := func(err error) output { s := err.Error(); return output{Err: &s} }
	switch c.Kind {
	case "duration":
		return str(time.Duration(c.NS).String())
	case "parse_duration":
		d, err := time.ParseDuration(c.S)
		if err != nil {
			return fail(err)
		}
		ns := int64(d)
		return output{NS: &ns}
	case "quote":
		return str(strconv.Quote(c.S))
	case "unquote":
		s, err := strconv.Unquote(c.S)
		if err != nil {
			return fail(err)
		}
		return str(s)
	case "unix_date":
		return str(time.Unix(c.Unix, 0).UTC().Format(time.UnixDate))
	case "parse_unix_date":
		t, err := time.Parse(time.UnixDate, c.S)
		if err != nil {
			return fail(err)
		}
		u := t.Unix()
		return output{NS: &u}
	case "option":
		o, err := option(c)
		if err != nil {
			return fail(err)
		}
		return str(o.String())
	}
	return fail(fmt.Errorf("unknown kind %q", c.Kind))
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
