// Package peershared holds what the peer_* programs share: the Redis connection flags, the
// JSON form of a task (input) and of an asynq.TaskInfo (output).
//
// Conventions of the JSON: byte strings (payload, result) are base64, as encoding/json does
// for []byte; times are whole Unix seconds, or null for Go's zero time; durations are seconds.
package peershared

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
)

// RedisFlags selects the Redis server: a standalone address or a list of cluster nodes.
type RedisFlags struct {
	Addr    string
	Cluster string
	DB      int
}

// AddRedisFlags registers -redis, -cluster and -db on the default flag set.
func AddRedisFlags() *RedisFlags {
	f := &RedisFlags{}
	flag.StringVar(&f.Addr, "redis", "127.0.0.1:6379", "standalone Redis host:port")
	flag.StringVar(&f.Cluster, "cluster", "", "comma-separated Redis Cluster node addresses (overrides -redis)")
	flag.IntVar(&f.DB, "db", 0, "Redis database number (standalone only)")
	return f
}

// Opt returns the asynq connection option for the flags.
func (f *RedisFlags) Opt() asynq.RedisConnOpt {
	if f.Cluster != "" {
		return asynq.RedisClusterClientOpt{Addrs: strings.Split(f.Cluster, ",")}
	}
	return asynq.RedisClientOpt{Addr: f.Addr, DB: f.DB}
}

// Options are asynq enqueue options in JSON; an absent field is an option not given.
// Numbers are seconds (durations) or Unix seconds (instants).
type Options struct {
	MaxRetry  *int     `json:"max_retry,omitempty"`
	Queue     *string  `json:"queue,omitempty"`
	Timeout   *float64 `json:"timeout,omitempty"`
	Deadline  *float64 `json:"deadline,omitempty"`
	Unique    *float64 `json:"unique,omitempty"`
	ProcessAt *float64 `json:"process_at,omitempty"`
	ProcessIn *float64 `json:"process_in,omitempty"`
	TaskID    *string  `json:"task_id,omitempty"`
	Retention *float64 `json:"retention,omitempty"`
	Group     *string  `json:"group,omitempty"`
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func instant(unix float64) time.Time {
	sec, frac := math.Modf(unix)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// List converts the options to asynq.Option values, in the fixed order of the struct.
func (o Options) List() []asynq.Option {
	var opts []asynq.Option
	if o.MaxRetry != nil {
		opts = append(opts, asynq.MaxRetry(*o.MaxRetry))
	}
	if o.Queue != nil {
		opts = append(opts, asynq.Queue(*o.Queue))
	}
	if o.Timeout != nil {
		opts = append(opts, asynq.Timeout(seconds(*o.Timeout)))
	}
	if o.Deadline != nil {
		opts = append(opts, asynq.Deadline(instant(*o.Deadline)))
	}
	if o.Unique != nil {
		opts = append(opts, asynq.Unique(seconds(*o.Unique)))
	}
	if o.ProcessAt != nil {
		opts = append(opts, asynq.ProcessAt(instant(*o.ProcessAt)))
	}
	if o.ProcessIn != nil {
		opts = append(opts, asynq.ProcessIn(seconds(*o.ProcessIn)))
	}
	if o.TaskID != nil {
		opts = append(opts, asynq.TaskID(*o.TaskID))
	}
	if o.Retention != nil {
		opts = append(opts, asynq.Retention(seconds(*o.Retention)))
	}
	if o.Group != nil {
		opts = append(opts, asynq.Group(*o.Group))
	}
	return opts
}

// TaskSpec is one task to enqueue: Payload null means Go's nil payload; Headers null means
// asynq.NewTask, otherwise asynq.NewTaskWithHeaders. TaskOptions go to NewTask, Options to
// Enqueue (the later wins, as in Go).
type TaskSpec struct {
	Type        string            `json:"type"`
	Payload     []byte            `json:"payload"`
	Headers     map[string]string `json:"headers"`
	TaskOptions Options           `json:"task_options"`
	Options     Options           `json:"options"`
}

// Task builds the asynq.Task of the spec.
func (s TaskSpec) Task() *asynq.Task {
	if s.Headers != nil {
		return asynq.NewTaskWithHeaders(s.Type, s.Payload, s.Headers, s.TaskOptions.List()...)
	}
	return asynq.NewTask(s.Type, s.Payload, s.TaskOptions.List()...)
}

// TaskInfo is the JSON form of asynq.TaskInfo.
type TaskInfo struct {
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
	Timeout       float64           `json:"timeout"`
	Deadline      *int64            `json:"deadline"`
	Group         string            `json:"group"`
	NextProcessAt *int64            `json:"next_process_at"`
	IsOrphaned    bool              `json:"is_orphaned"`
	Retention     float64           `json:"retention"`
	CompletedAt   *int64            `json:"completed_at"`
	Result        []byte            `json:"result"`
}

func unixOrNull(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

// Info converts an asynq.TaskInfo (nil stays nil).
func Info(i *asynq.TaskInfo) *TaskInfo {
	if i == nil {
		return nil
	}
	headers := i.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	return &TaskInfo{
		ID:            i.ID,
		Queue:         i.Queue,
		Type:          i.Type,
		Payload:       i.Payload,
		Headers:       headers,
		State:         i.State.String(),
		MaxRetry:      i.MaxRetry,
		Retried:       i.Retried,
		LastErr:       i.LastErr,
		LastFailedAt:  unixOrNull(i.LastFailedAt),
		Timeout:       i.Timeout.Seconds(),
		Deadline:      unixOrNull(i.Deadline),
		Group:         i.Group,
		NextProcessAt: unixOrNull(i.NextProcessAt),
		IsOrphaned:    i.IsOrphaned,
		Retention:     i.Retention.Seconds(),
		CompletedAt:   unixOrNull(i.CompletedAt),
		Result:        i.Result,
	}
}

// Infos converts a list.
func Infos(list []*asynq.TaskInfo) []*TaskInfo {
	out := make([]*TaskInfo, 0, len(list))
	for _, i := range list {
		out = append(out, Info(i))
	}
	return out
}

// ReadJSON decodes stdin into v, exiting on error.
func ReadJSON(v any) {
	if err := json.NewDecoder(os.Stdin).Decode(v); err != nil {
		Fatal("reading JSON from stdin: %v", err)
	}
}

// WriteJSON prints v as one line of JSON on stdout, exiting on error.
func WriteJSON(v any) {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		Fatal("writing JSON: %v", err)
	}
}

var emitMu sync.Mutex

// Emit prints v as one line of JSON on stdout; safe to call from several goroutines (a
// server's handlers), exiting on error.
func Emit(v any) {
	emitMu.Lock()
	defer emitMu.Unlock()
	WriteJSON(v)
}

// ErrString is err's text, or "" for nil.
func ErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Fatal prints to stderr and exits with status 1.
func Fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
