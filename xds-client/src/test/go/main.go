// Command testcp is an xDS control plane for Remora's interop tests, built on go-control-plane (an independent
// implementation of the server side of the protocol). It serves ADS (state of the world and delta) on one port and a
// small JSON control API on another, both on 127.0.0.1:
//
//	POST /update  {"version":"2","set":["<base64 google.protobuf.Any>",...],"delete":[{"type":"<type url>","name":"x"}]}
//	GET  /status  every request received and response sent, and the ACK/NACK state per node and type
//
// -cache snapshot keeps the resources in a snapshot cache (one snapshot, version from the update), -cache linear in
// one linear cache per type (per-resource versions, the delta-native cache). -no-delta answers
// DeltaAggregatedResources with UNIMPLEMENTED, like a SotW-only control plane. SDS's StreamSecrets is served
// too, and -uds also serves everything on a unix socket (istio-agent's shape for secrets). The listening ports are printed on
// stdout as "XDS_PORT=<n>" and "HTTP_PORT=<n>"; logs go to stderr. -hold opens the ADS port only after the first
// update, like a control plane that serves once it has synced (a restarted one must not tell a client that
// everything it holds was removed).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	// registered so the control API can decode Secret resources (the others come in through pkg/resource)
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// order in which a linear-cache update touches the types: dependencies first. Secrets (SDS over ADS, as istiod
// serves them to proxies that ask through ADS) come first: clusters and listeners warm until theirs arrive.
var typeOrder = []string{resource.SecretType, resource.ClusterType, resource.EndpointType, resource.ListenerType,
	resource.RouteType}

// group is the one snapshot-cache key: every node sees the same resources.
type group struct{}

func (group) ID(*core.Node) string { return "remora" }

type requestLog struct {
	Stream          string            `json:"stream"`
	Node            string            `json:"node"`
	Type            string            `json:"type"`
	Version         string            `json:"version,omitempty"`
	Nonce           string            `json:"nonce"`
	Error           *string           `json:"error"`
	ErrorCode       int32             `json:"error_code,omitempty"`
	Names           []string          `json:"names,omitempty"`
	Subscribe       []string          `json:"subscribe,omitempty"`
	Unsubscribe     []string          `json:"unsubscribe,omitempty"`
	InitialVersions map[string]string `json:"initial_versions,omitempty"`
	HasNode         bool              `json:"has_node"`
	Metadata        json.RawMessage   `json:"metadata,omitempty"`
	ClientFeatures  []string          `json:"client_features,omitempty"`
	UserAgent       string            `json:"user_agent,omitempty"`
}

type responseLog struct {
	Stream    string            `json:"stream"`
	Type      string            `json:"type"`
	Version   string            `json:"version"`
	Nonce     string            `json:"nonce"`
	Resources []string          `json:"resources"`
	Versions  map[string]string `json:"versions,omitempty"`
	Removed   []string          `json:"removed,omitempty"`
}

// typeStatus is what a control plane knows of one node's state for one type.
type typeStatus struct {
	AckedNonce   string `json:"acked_nonce,omitempty"`
	AckedVersion string `json:"acked_version,omitempty"`
	NackedNonce  string `json:"nacked_nonce,omitempty"`
	NackMessage  string `json:"nack_message,omitempty"`
	Acks         int    `json:"acks"`
	Nacks        int    `json:"nacks"`
}

type recorder struct {
	mu        sync.Mutex
	nodes     map[string]string // stream -> node id (delta sends the node only on a stream's first request)
	sent      map[string]string // stream/nonce -> response version
	requests  []requestLog
	responses []responseLog
	status    map[string]map[string]*typeStatus
	opened    map[string]int
	closed    map[string]int
}

func newRecorder() *recorder {
	return &recorder{nodes: map[string]string{}, sent: map[string]string{},
		status: map[string]map[string]*typeStatus{}, opened: map[string]int{}, closed: map[string]int{}}
}

func (r *recorder) request(stream string, node *core.Node, typeURL, version, nonce string, detail *status.Status,
	entry requestLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if node != nil && node.GetId() != "" {
		r.nodes[stream] = node.GetId()
		entry.HasNode = true
		if md, err := json.Marshal(node.GetMetadata().AsMap()); err == nil {
			entry.Metadata = md
		}
		entry.ClientFeatures = node.GetClientFeatures()
		entry.UserAgent = node.GetUserAgentName() + "/" + node.GetUserAgentVersion()
	}
	entry.Stream, entry.Node, entry.Type, entry.Version, entry.Nonce = stream, r.nodes[stream], typeURL, version, nonce
	if detail != nil {
		msg := detail.Message()
		entry.Error = &msg
		entry.ErrorCode = int32(detail.Code())
	}
	r.requests = append(r.requests, entry)
	if nonce == "" {
		return
	}
	byType := r.status[entry.Node]
	if byType == nil {
		byType = map[string]*typeStatus{}
		r.status[entry.Node] = byType
	}
	ts := byType[typeURL]
	if ts == nil {
		ts = &typeStatus{}
		byType[typeURL] = ts
	}
	if detail != nil {
		ts.NackedNonce, ts.NackMessage = nonce, detail.Message()
		ts.Nacks++
	} else {
		ts.AckedNonce, ts.AckedVersion = nonce, r.sent[stream+"/"+nonce]
		ts.Acks++
	}
}

func (r *recorder) response(entry responseLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[entry.Stream+"/"+entry.Nonce] = entry.Version
	r.responses = append(r.responses, entry)
}

func detailOf(s interface {
	GetCode() int32
	GetMessage() string
}) *status.Status {
	if s == nil || (s.GetCode() == 0 && s.GetMessage() == "") {
		return nil
	}
	return status.New(codes.Code(s.GetCode()), s.GetMessage())
}

func nameOf(a *anypb.Any) string {
	m, err := a.UnmarshalNew()
	if err != nil {
		return "<undecodable " + a.GetTypeUrl() + ">"
	}
	return cachev3.GetResourceName(m)
}

func (r *recorder) callbacks() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			r.mu.Lock()
			r.opened["sotw"]++
			r.mu.Unlock()
			return nil
		},
		StreamClosedFunc: func(id int64, _ *core.Node) {
			r.mu.Lock()
			r.closed["sotw"]++
			r.mu.Unlock()
		},
		DeltaStreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			r.mu.Lock()
			r.opened["delta"]++
			r.mu.Unlock()
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *core.Node) {
			r.mu.Lock()
			r.closed["delta"]++
			r.mu.Unlock()
		},
		StreamRequestFunc: func(id int64, q *discovery.DiscoveryRequest) error {
			var d *status.Status
			if q.GetErrorDetail() != nil {
				d = detailOf(q.GetErrorDetail())
			}
			r.request("sotw-"+strconv.FormatInt(id, 10), q.GetNode(), q.GetTypeUrl(), q.GetVersionInfo(),
				q.GetResponseNonce(), d, requestLog{Names: q.GetResourceNames()})
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discovery.DiscoveryRequest, p *discovery.DiscoveryResponse) {
			names := []string{}
			for _, a := range p.GetResources() {
				names = append(names, nameOf(a))
			}
			r.response(responseLog{Stream: "sotw-" + strconv.FormatInt(id, 10), Type: p.GetTypeUrl(),
				Version: p.GetVersionInfo(), Nonce: p.GetNonce(), Resources: names})
		},
		StreamDeltaRequestFunc: func(id int64, q *discovery.DeltaDiscoveryRequest) error {
			var d *status.Status
			if q.GetErrorDetail() != nil {
				d = detailOf(q.GetErrorDetail())
			}
			r.request("delta-"+strconv.FormatInt(id, 10), q.GetNode(), q.GetTypeUrl(), "", q.GetResponseNonce(), d,
				requestLog{Subscribe: q.GetResourceNamesSubscribe(), Unsubscribe: q.GetResourceNamesUnsubscribe(),
					InitialVersions: q.GetInitialResourceVersions()})
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, _ *discovery.DeltaDiscoveryRequest, p *discovery.DeltaDiscoveryResponse) {
			names := []string{}
			versions := map[string]string{}
			for _, res := range p.GetResources() {
				names = append(names, res.GetName())
				versions[res.GetName()] = res.GetVersion()
			}
			r.response(responseLog{Stream: "delta-" + strconv.FormatInt(id, 10), Type: p.GetTypeUrl(),
				Version: p.GetSystemVersionInfo(), Nonce: p.GetNonce(), Resources: names, Versions: versions,
				Removed: p.GetRemovedResources()})
		},
	}
}

// store applies control-API updates to the cache in use.
type store struct {
	mu        sync.Mutex
	snapshot  cachev3.SnapshotCache           // -cache snapshot
	linear    map[string]*cachev3.LinearCache // -cache linear
	resources map[string]map[string]types.Resource
}

type update struct {
	Version string   `json:"version"`
	Set     []string `json:"set"`
	Delete  []struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"delete"`
}

func (s *store) apply(u update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sets := map[string]map[string]types.Resource{}
	deletes := map[string][]string{}
	for i, b64 := range u.Set {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return fmt.Errorf("set[%d]: %w", i, err)
		}
		a := &anypb.Any{}
		if err := proto.Unmarshal(raw, a); err != nil {
			return fmt.Errorf("set[%d]: not a google.protobuf.Any: %w", i, err)
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("set[%d]: %w", i, err)
		}
		if sets[a.GetTypeUrl()] == nil {
			sets[a.GetTypeUrl()] = map[string]types.Resource{}
		}
		sets[a.GetTypeUrl()][cachev3.GetResourceName(m)] = m
	}
	for _, d := range u.Delete {
		deletes[d.Type] = append(deletes[d.Type], d.Name)
	}
	for typ, byName := range sets {
		if s.resources[typ] == nil {
			s.resources[typ] = map[string]types.Resource{}
		}
		for n, m := range byName {
			s.resources[typ][n] = m
		}
	}
	for typ, names := range deletes {
		for _, n := range names {
			delete(s.resources[typ], n)
		}
	}
	if s.snapshot != nil {
		all := map[resource.Type][]types.Resource{}
		for typ, byName := range s.resources {
			for _, m := range byName {
				all[typ] = append(all[typ], m)
			}
		}
		snap, err := cachev3.NewSnapshot(u.Version, all)
		if err != nil {
			return err
		}
		return s.snapshot.SetSnapshot(context.Background(), "remora", snap)
	}
	for _, typ := range typeOrder {
		if len(sets[typ]) == 0 && len(deletes[typ]) == 0 {
			continue
		}
		if err := s.linear[typ].UpdateResources(sets[typ], deletes[typ]); err != nil {
			return fmt.Errorf("%s: %w", typ, err)
		}
	}
	return nil
}

// sotwOnly answers delta streams like a control plane that never implemented them.
type sotwOnly struct{ serverv3.Server }

func (sotwOnly) DeltaAggregatedResources(discovery.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	return status.Error(codes.Unimplemented, "method DeltaAggregatedResources not implemented (-no-delta)")
}

func listen(addr string) net.Listener {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("listen %s: %v", addr, err)
	}
	return l
}

func main() {
	xdsAddr := flag.String("xds", "127.0.0.1:0", "ADS listen address")
	httpAddr := flag.String("http", "127.0.0.1:0", "control API listen address")
	mode := flag.String("cache", "snapshot", "snapshot | linear")
	noDelta := flag.Bool("no-delta", false, "answer DeltaAggregatedResources with UNIMPLEMENTED")
	hold := flag.Bool("hold", false, "open the ADS port only after the first update")
	uds := flag.String("uds", "", "also serve (ADS and SDS's StreamSecrets) on this unix socket, as istio-agent does")
	flag.Parse()

	ctx := context.Background()
	st := &store{resources: map[string]map[string]types.Resource{}}
	var c cachev3.Cache
	switch *mode {
	case "snapshot":
		st.snapshot = cachev3.NewSnapshotCache(false, group{}, nil)
		c = st.snapshot
	case "linear":
		st.linear = map[string]*cachev3.LinearCache{}
		caches := map[string]cachev3.Cache{}
		for _, t := range typeOrder {
			st.linear[t] = cachev3.NewLinearCache(t)
			caches[t] = st.linear[t]
		}
		c = &cachev3.MuxCache{
			Classify:      func(r *cachev3.Request) string { return r.GetTypeUrl() },
			ClassifyDelta: func(r *cachev3.DeltaRequest) string { return r.GetTypeUrl() },
			Caches:        caches,
		}
	default:
		log.Fatalf("-cache %q: want snapshot or linear", *mode)
	}
	rec := newRecorder()
	srv := serverv3.NewServer(ctx, c, rec.callbacks())

	g := grpc.NewServer()
	if *noDelta {
		discovery.RegisterAggregatedDiscoveryServiceServer(g, sotwOnly{srv})
	} else {
		discovery.RegisterAggregatedDiscoveryServiceServer(g, srv)
	}
	// SDS's own service: what istio-agent serves the workload certificates on
	secretservice.RegisterSecretDiscoveryServiceServer(g, srv)
	hl := listen(*httpAddr)
	var serveOnce sync.Once
	serveXds := func() {
		serveOnce.Do(func() {
			xl := listen(*xdsAddr)
			fmt.Printf("XDS_PORT=%d\n", xl.Addr().(*net.TCPAddr).Port)
			os.Stdout.Sync()
			log.Printf("testcp: cache %s, delta %v, xds %s, control %s", *mode, !*noDelta, xl.Addr(), hl.Addr())
			go func() {
				if err := g.Serve(xl); err != nil {
					log.Fatalf("grpc: %v", err)
				}
			}()
			if *uds != "" {
				os.Remove(*uds)
				ul, err := net.Listen("unix", *uds)
				if err != nil {
					log.Fatalf("listen %s: %v", *uds, err)
				}
				go func() {
					if err := g.Serve(ul); err != nil {
						log.Fatalf("grpc (unix): %v", err)
					}
				}()
			}
		})
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /update", func(w http.ResponseWriter, r *http.Request) {
		var u update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := st.apply(u); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		serveXds()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		out, err := json.Marshal(map[string]any{"requests": rec.requests, "responses": rec.responses,
			"status": rec.status, "streams_opened": rec.opened, "streams_closed": rec.closed})
		rec.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
	fmt.Printf("HTTP_PORT=%d\n", hl.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	if !*hold {
		serveXds()
	}
	if err := http.Serve(hl, mux); err != nil {
		log.Fatalf("control API: %v", err)
	}
}
