// Command insp_worker runs a Go asynq v0.26.0 Server whose handler blocks until its task is
// cancelled (by Inspector.CancelProcessing, a deadline or shutdown), so tests can inspect
// active tasks, server heartbeats and their worker lists while a real Go server holds them.
//
// Each task that starts is printed on stdout as {"event": "started", "id": "..."}; each
// cancelled one as {"event": "canceled", "id": "...", "err": "..."}. SIGTERM shuts it down.
//
//	insp_worker -redis 127.0.0.1:6379 -queues q1=2,q2=1 -concurrency 4
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]string) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "standalone Redis host:port")
	cluster := flag.String("cluster", "", "comma-separated Redis Cluster node addresses")
	queues := flag.String("queues", "default=1", "queue=priority,...")
	concurrency := flag.Int("concurrency", 4, "worker count")
	strict := flag.Bool("strict", false, "strict priority")
	flag.Parse()
	var opt asynq.RedisConnOpt = asynq.RedisClientOpt{Addr: *addr}
	if *cluster != "" {
		opt = asynq.RedisClusterClientOpt{Addrs: strings.Split(*cluster, ",")}
	}
	prio := map[string]int{}
	for _, part := range strings.Split(*queues, ",") {
		name, p, _ := strings.Cut(part, "=")
		n, err := strconv.Atoi(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "insp_worker: bad -queues %q\n", *queues)
			os.Exit(2)
		}
		prio[name] = n
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:     *concurrency,
		Queues:          prio,
		StrictPriority:  *strict,
		ShutdownTimeout: 2 * time.Second,
		LogLevel:        asynq.ErrorLevel,
	})
	handler := func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		emit(map[string]string{"event": "started", "id": id})
		<-ctx.Done()
		emit(map[string]string{"event": "canceled", "id": id, "err": ctx.Err().Error()})
		return ctx.Err()
	}
	if err := srv.Start(asynq.HandlerFunc(handler)); err != nil {
		fmt.Fprintf(os.Stderr, "insp_worker: %v\n", err)
		os.Exit(1)
	}
	emit(map[string]string{"event": "running"})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	srv.Shutdown()
}
