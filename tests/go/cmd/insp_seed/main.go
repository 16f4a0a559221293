// Command insp_seed fills Redis through Go asynq v0.26.0 itself: a Go Client enqueues tasks,
// then, optionally, a Go Server processes some queues to completion so that retry, archived
// and completed tasks, results and the processed/failed counters are all written by Go.
//
// Input (stdin):
//
//	{"tasks": [{"type": "ok", "payload": "<base64>", "queue": "q", "id": "...",
//	            "process_in": secs, "retention": secs, "group": "g", "unique": secs,
//	            "max_retry": n, "timeout": secs, "deadline": unix_secs, "headers": {...}}...],
//	 "process": ["q1", "q2"]}
//
// Task types decide what the server's handler does: "ok" writes the result "done:<payload>"
// and succeeds, "fail" returns an error (retried after one hour, or archived when out of
// retries), "skip" returns asynq.SkipRetry (archived at once). Zero-valued fields are options
// not given. The server stops once the processed queues have no pending or active task left.
//
// Output (stdout): {"ids": ["<id of each task>"...]}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

type spec struct {
	Type      string            `json:"type"`
	Payload   []byte            `json:"payload"`
	Queue     string            `json:"queue"`
	ID        string            `json:"id"`
	ProcessIn float64           `json:"process_in"`
	Retention float64           `json:"retention"`
	Group     string            `json:"group"`
	Unique    float64           `json:"unique"`
	MaxRetry  *int              `json:"max_retry"`
	Timeout   float64           `json:"timeout"`
	Deadline  int64             `json:"deadline"`
	Headers   map[string]string `json:"headers"`
}

type input struct {
	Tasks   []spec   `json:"tasks"`
	Process []string `json:"process"`
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (s spec) options() []asynq.Option {
	var opts []asynq.Option
	if s.Queue != "" {
		opts = append(opts, asynq.Queue(s.Queue))
	}
	if s.ID != "" {
		opts = append(opts, asynq.TaskID(s.ID))
	}
	if s.ProcessIn != 0 {
		opts = append(opts, asynq.ProcessIn(secs(s.ProcessIn)))
	}
	if s.Retention != 0 {
		opts = append(opts, asynq.Retention(secs(s.Retention)))
	}
	if s.Group != "" {
		opts = append(opts, asynq.Group(s.Group))
	}
	if s.Unique != 0 {
		opts = append(opts, asynq.Unique(secs(s.Unique)))
	}
	if s.MaxRetry != nil {
		opts = append(opts, asynq.MaxRetry(*s.MaxRetry))
	}
	if s.Timeout != 0 {
		opts = append(opts, asynq.Timeout(secs(s.Timeout)))
	}
	if s.Deadline != 0 {
		opts = append(opts, asynq.Deadline(time.Unix(s.Deadline, 0)))
	}
	return opts
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "insp_seed: "+format+"\n", args...)
	os.Exit(1)
}

func handler(ctx context.Context, t *asynq.Task) error {
	switch t.Type() {
	case "ok":
		if _, err := t.ResultWriter().Write(append([]byte("done:"), t.Payload()...)); err != nil {
			return err
		}
		return nil
	case "skip":
		return fmt.Errorf("no use retrying: %w", asynq.SkipRetry)
	}
	return errors.New("boom")
}

func process(opt asynq.RedisConnOpt, queues []string) {
	prio := map[string]int{}
	for _, q := range queues {
		prio[q] = 1
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:    4,
		Queues:         prio,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Hour },
		LogLevel:       asynq.ErrorLevel,
	})
	if err := srv.Start(asynq.HandlerFunc(handler)); err != nil {
		fatal("server: %v", err)
	}
	in := asynq.NewInspector(opt)
	defer in.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		busy := 0
		for _, q := range queues {
			info, err := in.GetQueueInfo(q)
			if err != nil {
				fatal("queue info: %v", err)
			}
			busy += info.Pending + info.Active
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			fatal("tasks still pending or active after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.Shutdown()
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "standalone Redis host:port")
	cluster := flag.String("cluster", "", "comma-separated Redis Cluster node addresses")
	flag.Parse()
	var opt asynq.RedisConnOpt = asynq.RedisClientOpt{Addr: *addr}
	if *cluster != "" {
		opt = asynq.RedisClusterClientOpt{Addrs: strings.Split(*cluster, ",")}
	}
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fatal("reading input: %v", err)
	}
	client := asynq.NewClient(opt)
	ids := []string{}
	for _, s := range in.Tasks {
		var t *asynq.Task
		if s.Headers != nil {
			t = asynq.NewTaskWithHeaders(s.Type, s.Payload, s.Headers)
		} else {
			t = asynq.NewTask(s.Type, s.Payload)
		}
		info, err := client.Enqueue(t, s.options()...)
		if err != nil {
			fatal("enqueue %+v: %v", s, err)
		}
		ids = append(ids, info.ID)
	}
	client.Close()
	if len(in.Process) > 0 {
		process(opt, in.Process)
	}
	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"ids": ids}); err != nil {
		fatal("%v", err)
	}
}
