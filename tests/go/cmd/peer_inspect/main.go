// Command peer_inspect reports what Go's asynq.Inspector sees.
//
// Input (stdin): {"get": [{"queue": "q", "id": "..."}...]}. Output (stdout):
//
//	{"queues": [names from Inspector.Queues],
//	 "get":    [{"info": <GetTaskInfo or null>, "error": "..."}...],   // one per input
//	 "lists":  {"<queue>": {"pending": [...], "active": [...], "scheduled": [...], "retry": [...],
//	            "archived": [...], "completed": [...], "aggregating": {"<group>": [...]}}},
//	 "stats":  {"<queue>": {GetQueueInfo counters}},
//	 "groups": {"<queue>": {"<group>": size}}}
//
// The lists and stats cover every queue of Inspector.Queues.
package main

import (
	"flag"

	"asynqpy.test/gopeer/cmd/peer_shared"
	"github.com/hibiken/asynq"
)

type ref struct {
	Queue string `json:"queue"`
	ID    string `json:"id"`
}

type input struct {
	Get []ref `json:"get"`
}

type got struct {
	Info  *peershared.TaskInfo `json:"info"`
	Error string               `json:"error"`
}

type lists struct {
	Pending     []*peershared.TaskInfo            `json:"pending"`
	Active      []*peershared.TaskInfo            `json:"active"`
	Scheduled   []*peershared.TaskInfo            `json:"scheduled"`
	Retry       []*peershared.TaskInfo            `json:"retry"`
	Archived    []*peershared.TaskInfo            `json:"archived"`
	Completed   []*peershared.TaskInfo            `json:"completed"`
	Aggregating map[string][]*peershared.TaskInfo `json:"aggregating"`
}

type stats struct {
	Size           int  `json:"size"`
	Groups         int  `json:"groups"`
	Pending        int  `json:"pending"`
	Active         int  `json:"active"`
	Scheduled      int  `json:"scheduled"`
	Retry          int  `json:"retry"`
	Archived       int  `json:"archived"`
	Completed      int  `json:"completed"`
	Aggregating    int  `json:"aggregating"`
	Processed      int  `json:"processed"`
	Failed         int  `json:"failed"`
	ProcessedTotal int  `json:"processed_total"`
	FailedTotal    int  `json:"failed_total"`
	Paused         bool `json:"paused"`
}

type output struct {
	Queues []string                  `json:"queues"`
	Get    []got                     `json:"get"`
	Lists  map[string]lists          `json:"lists"`
	Stats  map[string]stats          `json:"stats"`
	Groups map[string]map[string]int `json:"groups"`
}

// page is larger than any test table so that one page holds every task.
var page = asynq.PageSize(1000)

func must[T any](v T, err error) T {
	if err != nil {
		peershared.Fatal("inspector: %v", err)
	}
	return v
}

func listQueue(insp *asynq.Inspector, q string) (lists, map[string]int) {
	l := lists{
		Pending:     peershared.Infos(must(insp.ListPendingTasks(q, page))),
		Active:      peershared.Infos(must(insp.ListActiveTasks(q, page))),
		Scheduled:   peershared.Infos(must(insp.ListScheduledTasks(q, page))),
		Retry:       peershared.Infos(must(insp.ListRetryTasks(q, page))),
		Archived:    peershared.Infos(must(insp.ListArchivedTasks(q, page))),
		Completed:   peershared.Infos(must(insp.ListCompletedTasks(q, page))),
		Aggregating: map[string][]*peershared.TaskInfo{},
	}
	sizes := map[string]int{}
	for _, g := range must(insp.Groups(q)) {
		sizes[g.Group] = g.Size
		l.Aggregating[g.Group] = peershared.Infos(must(insp.ListAggregatingTasks(q, g.Group, page)))
	}
	return l, sizes
}

func main() {
	rf := peershared.AddRedisFlags()
	flag.Parse()
	var in input
	peershared.ReadJSON(&in)

	insp := asynq.NewInspector(rf.Opt())
	defer insp.Close()
	out := output{
		Queues: must(insp.Queues()),
		Get:    []got{},
		Lists:  map[string]lists{},
		Stats:  map[string]stats{},
		Groups: map[string]map[string]int{},
	}
	for _, r := range in.Get {
		info, err := insp.GetTaskInfo(r.Queue, r.ID)
		out.Get = append(out.Get, got{peershared.Info(info), peershared.ErrString(err)})
	}
	for _, q := range out.Queues {
		out.Lists[q], out.Groups[q] = listQueue(insp, q)
		s := must(insp.GetQueueInfo(q))
		out.Stats[q] = stats{
			s.Size, s.Groups, s.Pending, s.Active, s.Scheduled, s.Retry, s.Archived,
			s.Completed, s.Aggregating, s.Processed, s.Failed, s.ProcessedTotal, s.FailedTotal,
			s.Paused,
		}
	}
	peershared.WriteJSON(out)
}
