// Command peer_server runs a Go asynq.Server that records every task it handles.
//
// Each handled task is printed on stdout as one JSON line:
//
//	{"event": "processed", "id": "...", "queue": "...", "type": "...", "payload": "<base64>",
//	 "headers": {...}, "retried": 0, "max_retry": 25}
//
// Groups are aggregated by a GroupAggregator that prints
//
//	{"event": "aggregated", "group": "g", "tasks": [{"type", "payload", "headers"}...]}
//
// and returns one task of type "aggregated:<group>" whose payload is the members' payloads
// joined by "|". "started" is printed once the server runs; SIGTERM/SIGINT shut it down.
//
//	peer_server -redis 127.0.0.1:6379 -queues default=1,critical=1
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"asynqpy.test/gopeer/cmd/peer_shared"
	"github.com/hibiken/asynq"
)

// out serialises JSON lines written from the worker goroutines.
var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v any) {
	out.Lock()
	defer out.Unlock()
	if err := out.enc.Encode(v); err != nil {
		peershared.Fatal("writing JSON: %v", err)
	}
}

type processed struct {
	Event    string            `json:"event"`
	ID       string            `json:"id"`
	Queue    string            `json:"queue"`
	Type     string            `json:"type"`
	Payload  []byte            `json:"payload"`
	Headers  map[string]string `json:"headers"`
	Retried  int               `json:"retried"`
	MaxRetry int               `json:"max_retry"`
}

type member struct {
	Type    string            `json:"type"`
	Payload []byte            `json:"payload"`
	Headers map[string]string `json:"headers"`
}

type aggregated struct {
	Event string   `json:"event"`
	Group string   `json:"group"`
	Tasks []member `json:"tasks"`
}

func handle(ctx context.Context, t *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	emit(processed{"processed", id, queue, t.Type(), t.Payload(), t.Headers(), retried, maxRetry})
	return nil
}

func aggregate(group string, tasks []*asynq.Task) *asynq.Task {
	members := make([]member, 0, len(tasks))
	payloads := make([][]byte, 0, len(tasks))
	for _, t := range tasks {
		members = append(members, member{t.Type(), t.Payload(), t.Headers()})
		payloads = append(payloads, t.Payload())
	}
	emit(aggregated{"aggregated", group, members})
	return asynq.NewTask("aggregated:"+group, bytes.Join(payloads, []byte("|")))
}

func parseQueues(s string) map[string]int {
	queues := map[string]int{}
	for _, item := range strings.Split(s, ",") {
		name, prio, _ := strings.Cut(item, "=")
		p, err := strconv.Atoi(prio)
		if err != nil {
			peershared.Fatal("bad -queues item %q (want name=priority)", item)
		}
		queues[name] = p
	}
	return queues
}

func main() {
	rf := peershared.AddRedisFlags()
	queues := flag.String("queues", "default=1", "queues to serve, name=priority,...")
	concurrency := flag.Int("concurrency", 4, "worker goroutines")
	poll := flag.Duration("poll", 100*time.Millisecond, "TaskCheckInterval (idle dequeue poll)")
	forward := flag.Duration("forward", 200*time.Millisecond, "DelayedTaskCheckInterval (forwarder)")
	grace := flag.Duration("grace", time.Second, "GroupGracePeriod (>= 1s; also the aggregator tick)")
	janitor := flag.Duration("janitor", time.Second, "JanitorInterval")
	flag.Parse()

	srv := asynq.NewServer(rf.Opt(), asynq.Config{
		Concurrency:              *concurrency,
		Queues:                   parseQueues(*queues),
		TaskCheckInterval:        *poll,
		DelayedTaskCheckInterval: *forward,
		GroupGracePeriod:         *grace,
		GroupAggregator:          asynq.GroupAggregatorFunc(aggregate),
		JanitorInterval:          *janitor,
		ShutdownTimeout:          3 * time.Second,
		LogLevel:                 asynq.WarnLevel,
	})
	if err := srv.Start(asynq.HandlerFunc(handle)); err != nil {
		peershared.Fatal("server start: %v", err)
	}
	emit(map[string]string{"event": "started"})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	srv.Shutdown()
	emit(map[string]string{"event": "stopped"})
}
