// Command bench_srv_drain runs a Go asynq v0.26.0 server with a no-op handler, as the reference
// for the worker drain benchmark (benchmarks/worker_drain.py).
//
// The benchmark pre-enqueues tasks, starts this program and watches the processed counter; the
// program only processes tasks until SIGTERM/SIGINT. asynq's own log goes to stderr.
//
//	bench_srv_drain -redis 127.0.0.1:6379 -concurrency 10
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/hibiken/asynq"
)

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "Redis address host:port")
	db := flag.Int("db", 0, "Redis database number")
	concurrency := flag.Int("concurrency", 10, "tasks processed at once")
	queue := flag.String("queue", "default", "queue to process")
	flag.Parse()

	srv := asynq.NewServer(
		asynq.RedisClientOpt{Addr: *addr, DB: *db},
		asynq.Config{Concurrency: *concurrency, Queues: map[string]int{*queue: 1}},
	)
	noop := asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return nil })
	if err := srv.Run(noop); err != nil {
		fmt.Fprintln(os.Stderr, "bench_srv_drain:", err)
		os.Exit(1)
	}
}
