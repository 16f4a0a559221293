// Command insp_call runs Go asynq v0.26.0 Inspector calls and prints their answers as JSON, so
// tests can compare them with the Python Inspector's on the same Redis data.
//
// Input (stdin): a JSON list of calls, each {"op": "<Inspector method>", "queue": "...",
// "id": "...", "group": "...", "entry": "...", "page": n, "size": n, "days": n,
// "force": bool, "payload": "<base64>"}; page/size are given to the list calls only when
// non-zero. Output (stdout): one JSON list with, per call, {"ok": <answer>} or
// {"err": "<error text>", "sentinel": "queue_not_found" | "task_not_found" |
// "queue_not_empty" | ""}.
//
// JSON conventions: []byte as base64; times as Unix nanoseconds, or null for Go's zero time;
// durations as nanoseconds.
//
//	insp_call -redis 127.0.0.1:6379 <<< '[{"op": "ListPendingTasks", "queue": "default"}]'
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

type call struct {
	Op      string `json:"op"`
	Queue   string `json:"queue"`
	ID      string `json:"id"`
	Group   string `json:"group"`
	Entry   string `json:"entry"`
	Page    int    `json:"page"`
	Size    int    `json:"size"`
	Days    int    `json:"days"`
	Force   bool   `json:"force"`
	Payload []byte `json:"payload"`
}

type answer struct {
	OK       any    `json:"ok,omitempty"`
	Err      string `json:"err,omitempty"`
	Sentinel string `json:"sentinel,omitempty"`
}

func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

type taskInfo struct {
	ID            string            `json:"id"`
	Queue         string            `json:"queue"`
	Type          string            `json:"type"`
	Payload       []byte            `json:"payload"`
	Headers       map[string]string `json:"headers"`
	State         string            `json:"state"`
	MaxRetry      int               `json:"max_retry"`
	Retried       int               `json:"retried"`
	LastErr       string            `json:"last_err"`
	LastFailedAt  *int64            `json:"last_failed_at"`
	Timeout       int64             `json:"timeout"`
	Deadline      *int64            `json:"deadline"`
	Group         string            `json:"group"`
	NextProcessAt *int64            `json:"next_process_at"`
	IsOrphaned    bool              `json:"is_orphaned"`
	Retention     int64             `json:"retention"`
	CompletedAt   *int64            `json:"completed_at"`
	Result        []byte            `json:"result"`
}

func task(i *asynq.TaskInfo) taskInfo {
	return taskInfo{
		ID: i.ID, Queue: i.Queue, Type: i.Type, Payload: i.Payload, Headers: i.Headers,
		State: i.State.String(), MaxRetry: i.MaxRetry, Retried: i.Retried, LastErr: i.LastErr,
		LastFailedAt: nanos(i.LastFailedAt), Timeout: int64(i.Timeout), Deadline: nanos(i.Deadline),
		Group: i.Group, NextProcessAt: nanos(i.NextProcessAt), IsOrphaned: i.IsOrphaned,
		Retention: int64(i.Retention), CompletedAt: nanos(i.CompletedAt), Result: i.Result,
	}
}

func tasks(list []*asynq.TaskInfo, err error) (any, error) {
	out := []taskInfo{}
	for _, i := range list {
		out = append(out, task(i))
	}
	return out, err
}

type worker struct {
	TaskID      string `json:"task_id"`
	TaskType    string `json:"task_type"`
	TaskPayload []byte `json:"task_payload"`
	Queue       string `json:"queue"`
	Started     *int64 `json:"started"`
	Deadline    *int64 `json:"deadline"`
}

type server struct {
	ID             string         `json:"id"`
	Host           string         `json:"host"`
	PID            int            `json:"pid"`
	Concurrency    int            `json:"concurrency"`
	Queues         map[string]int `json:"queues"`
	StrictPriority bool           `json:"strict_priority"`
	Started        *int64         `json:"started"`
	Status         string         `json:"status"`
	ActiveWorkers  []worker       `json:"active_workers"`
}

type entry struct {
	ID      string   `json:"id"`
	Spec    string   `json:"spec"`
	Type    string   `json:"type"`
	Payload []byte   `json:"payload"`
	Opts    []string `json:"opts"`
	Next    *int64   `json:"next"`
	Prev    *int64   `json:"prev"`
}

func listOpts(c call) []asynq.ListOption {
	var opts []asynq.ListOption
	if c.Page != 0 {
		opts = append(opts, asynq.Page(c.Page))
	}
	if c.Size != 0 {
		opts = append(opts, asynq.PageSize(c.Size))
	}
	return opts
}

func run(in *asynq.Inspector, c call) (any, error) {
	q, o := c.Queue, listOpts(c)
	switch c.Op {
	case "Queues":
		return in.Queues()
	case "GetQueueInfo":
		i, err := in.GetQueueInfo(q)
		if err != nil {
			return nil, err
		}
		return map[string]any{
			"queue": i.Queue, "memory_usage": i.MemoryUsage, "latency": int64(i.Latency),
			"size": i.Size, "groups": i.Groups, "pending": i.Pending, "active": i.Active,
			"scheduled": i.Scheduled, "retry": i.Retry, "archived": i.Archived,
			"completed": i.Completed, "aggregating": i.Aggregating, "processed": i.Processed,
			"failed": i.Failed, "processed_total": i.ProcessedTotal, "failed_total": i.FailedTotal,
			"paused": i.Paused, "timestamp": nanos(i.Timestamp),
		}, nil
	case "History":
		list, err := in.History(q, c.Days)
		out := []map[string]any{}
		for _, d := range list {
			out = append(out, map[string]any{
				"queue": d.Queue, "processed": d.Processed, "failed": d.Failed, "date": nanos(d.Date),
			})
		}
		return out, err
	case "Groups":
		list, err := in.Groups(q)
		out := []map[string]any{}
		for _, g := range list {
			out = append(out, map[string]any{"group": g.Group, "size": g.Size})
		}
		return out, err
	case "ListPendingTasks":
		return tasks(in.ListPendingTasks(q, o...))
	case "ListActiveTasks":
		return tasks(in.ListActiveTasks(q, o...))
	case "ListScheduledTasks":
		return tasks(in.ListScheduledTasks(q, o...))
	case "ListRetryTasks":
		return tasks(in.ListRetryTasks(q, o...))
	case "ListArchivedTasks":
		return tasks(in.ListArchivedTasks(q, o...))
	case "ListCompletedTasks":
		return tasks(in.ListCompletedTasks(q, o...))
	case "ListAggregatingTasks":
		return tasks(in.ListAggregatingTasks(q, c.Group, o...))
	case "GetTaskInfo":
		i, err := in.GetTaskInfo(q, c.ID)
		if err != nil {
			return nil, err
		}
		return task(i), nil
	case "DeleteTask":
		return true, in.DeleteTask(q, c.ID)
	case "RunTask":
		return true, in.RunTask(q, c.ID)
	case "ArchiveTask":
		return true, in.ArchiveTask(q, c.ID)
	case "UpdateTaskPayload":
		return true, in.UpdateTaskPayload(q, c.ID, c.Payload)
	case "CancelProcessing":
		return true, in.CancelProcessing(c.ID)
	case "DeleteAllPendingTasks":
		return in.DeleteAllPendingTasks(q)
	case "DeleteAllScheduledTasks":
		return in.DeleteAllScheduledTasks(q)
	case "DeleteAllRetryTasks":
		return in.DeleteAllRetryTasks(q)
	case "DeleteAllArchivedTasks":
		return in.DeleteAllArchivedTasks(q)
	case "DeleteAllCompletedTasks":
		return in.DeleteAllCompletedTasks(q)
	case "DeleteAllAggregatingTasks":
		return in.DeleteAllAggregatingTasks(q, c.Group)
	case "RunAllScheduledTasks":
		return in.RunAllScheduledTasks(q)
	case "RunAllRetryTasks":
		return in.RunAllRetryTasks(q)
	case "RunAllArchivedTasks":
		return in.RunAllArchivedTasks(q)
	case "RunAllAggregatingTasks":
		return in.RunAllAggregatingTasks(q, c.Group)
	case "ArchiveAllPendingTasks":
		return in.ArchiveAllPendingTasks(q)
	case "ArchiveAllScheduledTasks":
		return in.ArchiveAllScheduledTasks(q)
	case "ArchiveAllRetryTasks":
		return in.ArchiveAllRetryTasks(q)
	case "ArchiveAllAggregatingTasks":
		return in.ArchiveAllAggregatingTasks(q, c.Group)
	case "PauseQueue":
		return true, in.PauseQueue(q)
	case "UnpauseQueue":
		return true, in.UnpauseQueue(q)
	case "DeleteQueue":
		return true, in.DeleteQueue(q, c.Force)
	case "Servers":
		list, err := in.Servers()
		out := []server{}
		for _, s := range list {
			ws := []worker{}
			for _, w := range s.ActiveWorkers {
				ws = append(ws, worker{w.TaskID, w.TaskType, w.TaskPayload, w.Queue, nanos(w.Started), nanos(w.Deadline)})
			}
			out = append(out, server{s.ID, s.Host, s.PID, s.Concurrency, s.Queues, s.StrictPriority, nanos(s.Started), s.Status, ws})
		}
		// Go returns the servers in map order; sort so that runs are comparable.
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return out, err
	case "SchedulerEntries":
		list, err := in.SchedulerEntries()
		out := []entry{}
		for _, e := range list {
			opts := []string{}
			for _, o := range e.Opts {
				opts = append(opts, o.String())
			}
			out = append(out, entry{e.ID, e.Spec, e.Task.Type(), e.Task.Payload(), opts, nanos(e.Next), nanos(e.Prev)})
		}
		return out, err
	case "ListSchedulerEnqueueEvents":
		list, err := in.ListSchedulerEnqueueEvents(c.Entry, o...)
		out := []map[string]any{}
		for _, e := range list {
			out = append(out, map[string]any{"task_id": e.TaskID, "enqueued_at": nanos(e.EnqueuedAt)})
		}
		return out, err
	case "ClusterKeySlot":
		return in.ClusterKeySlot(q)
	case "ClusterNodes":
		list, err := in.ClusterNodes(q)
		out := []map[string]string{}
		for _, n := range list {
			out = append(out, map[string]string{"id": n.ID, "addr": n.Addr})
		}
		return out, err
	}
	return nil, fmt.Errorf("insp_call: unknown op %q", c.Op)
}

func sentinel(err error) string {
	switch {
	case errors.Is(err, asynq.ErrQueueNotFound):
		return "queue_not_found"
	case errors.Is(err, asynq.ErrTaskNotFound):
		return "task_not_found"
	case errors.Is(err, asynq.ErrQueueNotEmpty):
		return "queue_not_empty"
	}
	return ""
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "standalone Redis host:port")
	cluster := flag.String("cluster", "", "comma-separated Redis Cluster node addresses")
	flag.Parse()
	var opt asynq.RedisConnOpt = asynq.RedisClientOpt{Addr: *addr}
	if *cluster != "" {
		opt = asynq.RedisClusterClientOpt{Addrs: strings.Split(*cluster, ",")}
	}
	var calls []call
	if err := json.NewDecoder(os.Stdin).Decode(&calls); err != nil {
		fmt.Fprintf(os.Stderr, "insp_call: reading calls: %v\n", err)
		os.Exit(2)
	}
	in := asynq.NewInspector(opt)
	defer in.Close()
	out := []answer{}
	for _, c := range calls {
		v, err := run(in, c)
		if err != nil {
			out = append(out, answer{Err: err.Error(), Sentinel: sentinel(err)})
		} else {
			out = append(out, answer{OK: v})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "insp_call: %v\n", err)
		os.Exit(2)
	}
}
