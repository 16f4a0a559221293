// Command bench_srv_enqueue enqueues one task per line read on stdin with Go asynq v0.26.0's
// Client, so the pickup latency benchmark (benchmarks/worker_pickup.py) can pace Go-enqueued
// tasks. Go's client does not announce new tasks, so a worker finds them by polling.
//
// For each stdin line it reads the clock, enqueues a task of type -type into -queue whose
// payload is that time in Unix nanoseconds (decimal), and prints "ok" (or exits non-zero on an
// error). It exits at the end of stdin.
//
//	bench_srv_enqueue -redis 127.0.0.1:6379 -queue default
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "Redis address host:port")
	db := flag.Int("db", 0, "Redis database number")
	queue := flag.String("queue", "default", "queue name")
	typeName := flag.String("type", "bench:pickup", "task type")
	flag.Parse()

	client := asynq.NewClient(asynq.RedisClientOpt{Addr: *addr, DB: *db})
	defer client.Close()
	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		now := time.Now().UnixNano()
		task := asynq.NewTask(*typeName, []byte(strconv.FormatInt(now, 10)))
		if _, err := client.EnqueueContext(ctx, task, asynq.Queue(*queue)); err != nil {
			fmt.Fprintln(os.Stderr, "bench_srv_enqueue:", err)
			os.Exit(1)
		}
		fmt.Fprintln(out, "ok")
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
}
