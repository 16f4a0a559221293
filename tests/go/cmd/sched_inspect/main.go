// Command sched_inspect prints what Go's Inspector reads about live schedulers: every entry of
// Inspector.SchedulerEntries() and, for each, ListSchedulerEnqueueEvents (newest first).
//
// Flags: -redis host:port, -db N. Output (stdout): JSON
//
//	{"entries": [{"id", "spec", "type", "payload" (base64), "opts" (Option.String() of every
//	  option the Inspector parsed back), "next": {"unix", "nanos", "zero"}, "prev": {...},
//	  "events": [{"task_id", "enqueued_at": {...}}]}]}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hibiken/asynq"
)

type instant struct {
	Unix  int64 `json:"unix"`
	Nanos int   `json:"nanos"`
	Zero  bool  `json:"zero"`
}

type event struct {
	TaskID     string  `json:"task_id"`
	EnqueuedAt instant `json:"enqueued_at"`
}

type entry struct {
	ID      string   `json:"id"`
	Spec    string   `json:"spec"`
	Type    string   `json:"type"`
	Payload []byte   `json:"payload"`
	Opts    []string `json:"opts"`
	Next    instant  `json:"next"`
	Prev    instant  `json:"prev"`
	Events  []event  `json:"events"`
}

func at(t time.Time) instant {
	return instant{Unix: t.Unix(), Nanos: t.Nanosecond(), Zero: t.IsZero()}
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "Redis host:port")
	db := flag.Int("db", 0, "Redis database")
	flag.Parse()
	in := asynq.NewInspector(asynq.RedisClientOpt{Addr: *addr, DB: *db})
	defer in.Close()

	list, err := in.SchedulerEntries()
	if err != nil {
		fmt.Fprintln(os.Stderr, "SchedulerEntries:", err)
		os.Exit(1)
	}
	out := struct {
		Entries []entry `json:"entries"`
	}{Entries: []entry{}}
	for _, e := range list {
		opts := []string{}
		for _, o := range e.Opts {
			opts = append(opts, o.String())
		}
		events, err := in.ListSchedulerEnqueueEvents(e.ID, asynq.PageSize(2000))
		if err != nil {
			fmt.Fprintln(os.Stderr, "ListSchedulerEnqueueEvents:", err)
			os.Exit(1)
		}
		evs := []event{}
		for _, ev := range events {
			evs = append(evs, event{TaskID: ev.TaskID, EnqueuedAt: at(ev.EnqueuedAt)})
		}
		out.Entries = append(out.Entries, entry{
			ID: e.ID, Spec: e.Spec, Type: e.Task.Type(), Payload: e.Task.Payload(), Opts: opts,
			Next: at(e.Next), Prev: at(e.Prev), Events: evs,
		})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
