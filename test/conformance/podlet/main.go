// The podlet: the one simulated piece of the conformance harness. It stands in for kube-scheduler (for one Node) and
// for the kubelet plus container runtime of that Node, so that the real kube-apiserver, etcd and
// kube-controller-manager can run the Pods of the Gateway API conformance suite:
//
//   - it registers a Node and binds every unscheduled Pod to it;
//   - it runs each container of a Pod as a local process (the image is mapped to a locally built binary; any other
//     image leaves the Pod visibly unable to start) in the Pod's own network namespace, with a real pod IP on a
//     private bridge, the container's env resolved (fieldRef, secretKeyRef, ...) and its Secret/ConfigMap/emptyDir
//     volumes mounted where the Pod spec says (in the container's private mount namespace);
//   - it writes Pod status: Ready only once the process listens on a socket, podIP/podIPs, container states;
//   - it serves the kubelet's /containerLogs over TLS so that `kubectl logs` (and the suite's mirror tests) work;
//   - it deletes Pods promptly: SIGTERM, a short grace, SIGKILL, then a force-delete with a UID precondition, as the
//     kubelet's status manager does, so Namespaces finish deleting.
//
// It must run as root inside the harness's outer network namespace (the one holding the bridge), but in the host's
// mount namespace so that the pod network namespaces it creates with `ip netns add` are visible to the harness:
// start it with `nsenter --net=/run/netns/<outer> podlet ...`, not `ip netns exec`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
)

type config struct {
	kubeconfig  string
	nodeName    string
	nodeIP      netip.Addr
	podPrefix   netip.Prefix
	bridge      string
	netnsPrefix string
	stateDir    string
	caCert      string
	caKey       string
	kubeletPort int
	images      imageMap
	maxGrace    time.Duration
}

// imageMap maps an image repository (the reference without tag or digest) to a local binary.
type imageMap map[string]string

func (m imageMap) String() string { return fmt.Sprint(map[string]string(m)) }
func (m imageMap) Set(v string) error {
	repo, bin, ok := strings.Cut(v, "=")
	if !ok || repo == "" || bin == "" {
		return fmt.Errorf("want REPOSITORY=BINARY, got %q", v)
	}
	m[repo] = bin
	return nil
}

// lookup returns the binary for an image reference such as registry.k8s.io/gateway-api/echo-basic:v1.5.1.
func (m imageMap) lookup(image string) (string, bool) {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	bin, ok := m[repo]
	return bin, ok
}

func (m imageMap) known() string {
	var names []string
	for repo := range m {
		names = append(names, repo)
	}
	return strings.Join(names, ", ")
}

type podlet struct {
	cfg      config
	client   kubernetes.Interface
	recorder record.EventRecorder
	selfExe  string
	mntNS    string // our mount namespace; a container helper refuses to mount anything if it finds itself in it
	ips      *ipAllocator

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	// finished pods: their worker is done (the pod was deleted); later events about them (our own final status
	// write, the deletion itself) must not start a new worker. Dropped when the informer reports the pod gone.
	finished map[types.UID]bool
	binding  map[types.UID]bool
	wg       sync.WaitGroup
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "run-container" {
		runContainer(os.Args[2:]) // never returns
	}
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds)
	log.SetPrefix("podlet: ")

	cfg := config{images: imageMap{}}
	var nodeIP, podCIDR string
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster")
	flag.StringVar(&cfg.nodeName, "node-name", "podlet", "name of the Node this podlet is")
	flag.StringVar(&nodeIP, "node-ip", "10.244.0.1", "the bridge's address: the Node's InternalIP, the kubelet API's address and the pods' gateway")
	flag.StringVar(&podCIDR, "pod-cidr", "10.244.0.0/16", "pod IPs are taken from here (the bridge's subnet)")
	flag.StringVar(&cfg.bridge, "bridge", "gwc0", "bridge the pods' veths are attached to (must exist in this network namespace)")
	flag.StringVar(&cfg.netnsPrefix, "netns-prefix", "", "pod network namespaces are named <prefix><n> (required; make it unique per run)")
	flag.StringVar(&cfg.stateDir, "state-dir", "", "volumes, logs and scratch of the pods (required)")
	flag.StringVar(&cfg.caCert, "ca-cert", "", "CA certificate that signs the kubelet API's serving certificate (the apiserver's --kubelet-certificate-authority)")
	flag.StringVar(&cfg.caKey, "ca-key", "", "key of --ca-cert")
	flag.IntVar(&cfg.kubeletPort, "kubelet-port", 10250, "port of the kubelet API (containerLogs)")
	flag.Var(cfg.images, "image", "REPOSITORY=BINARY: run containers of this image (any tag) as this binary; repeatable")
	flag.DurationVar(&cfg.maxGrace, "max-grace", 2*time.Second, "upper bound of the SIGTERM grace given to a deleted pod's processes")
	flag.Parse()

	var err error
	if cfg.nodeIP, err = netip.ParseAddr(nodeIP); err != nil {
		log.Fatalf("--node-ip: %v", err)
	}
	if cfg.podPrefix, err = netip.ParsePrefix(podCIDR); err != nil {
		log.Fatalf("--pod-cidr: %v", err)
	}
	if cfg.netnsPrefix == "" || cfg.stateDir == "" || cfg.caCert == "" || cfg.caKey == "" || cfg.kubeconfig == "" {
		log.Fatal("--netns-prefix, --state-dir, --ca-cert, --ca-key and --kubeconfig are required")
	}
	if len(cfg.images) == 0 {
		log.Fatal("no --image given: the podlet could run nothing")
	}
	for repo, bin := range cfg.images {
		if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
			log.Fatalf("--image %s=%s: not an executable file", repo, bin)
		}
	}
	if err := checkBridge(cfg.bridge, cfg.nodeIP); err != nil {
		log.Fatal(err)
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	restCfg.QPS, restCfg.Burst = 100, 200
	restCfg.UserAgent = "podlet"
	client := kubernetes.NewForConfigOrDie(restCfg)

	p := &podlet{
		cfg:      cfg,
		client:   client,
		workers:  map[types.UID]*podWorker{},
		finished: map[types.UID]bool{},
		binding:  map[types.UID]bool{},
		ips:      newIPAllocator(cfg.podPrefix, cfg.nodeIP),
	}
	if p.selfExe, err = os.Executable(); err != nil {
		log.Fatal(err)
	}
	if p.mntNS, err = os.Readlink("/proc/self/ns/mnt"); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(cfg.stateDir, 0o755); err != nil {
		log.Fatal(err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	p.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "podlet", Host: cfg.nodeName})

	if err := p.registerNode(ctx); err != nil {
		log.Fatalf("registering Node %s: %v", cfg.nodeName, err)
	}
	srv, err := p.startKubeletAPI()
	if err != nil {
		log.Fatalf("kubelet API: %v", err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.Core().V1().Pods().Informer()
	_, err = podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.onPod(ctx, obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { p.onPod(ctx, obj.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				p.onPodGone(pod)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	factory.Start(ctx.Done())
	log.Printf("Node %s ready: kubelet API on https://%s, pods on %s via bridge %s, images: %s",
		cfg.nodeName, srv.Addr, cfg.podPrefix, cfg.bridge, cfg.images.known())

	<-ctx.Done()
	log.Print("stopping: killing every container and removing the pod network namespaces")
	factory.Shutdown()
	_ = srv.Close()
	p.mu.Lock()
	for _, w := range p.workers {
		w.shutdown()
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		log.Print("some pods did not stop within 20s")
	}
	broadcaster.Shutdown()
	log.Print("stopped")
}

// onPod is called for every add/update of any Pod in the cluster.
func (p *podlet) onPod(ctx context.Context, pod *corev1.Pod) {
	switch pod.Spec.NodeName {
	case "":
		if pod.DeletionTimestamp == nil {
			p.bind(ctx, pod)
		}
	case p.cfg.nodeName:
		p.mu.Lock()
		w := p.workers[pod.UID]
		if w == nil && p.finished[pod.UID] {
			p.mu.Unlock()
			return
		}
		if w == nil {
			if pod.DeletionTimestamp != nil && pod.Status.StartTime == nil {
				// Never started here: nothing to stop; just finish the deletion.
				p.mu.Unlock()
				go p.forceDelete(ctx, pod)
				return
			}
			w = newPodWorker(p, pod)
			p.workers[pod.UID] = w
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				w.run(ctx)
				p.mu.Lock()
				delete(p.workers, pod.UID)
				p.finished[pod.UID] = true
				p.mu.Unlock()
			}()
		}
		p.mu.Unlock()
		w.update(pod)
	}
}

func (p *podlet) onPodGone(pod *corev1.Pod) {
	p.mu.Lock()
	w := p.workers[pod.UID]
	delete(p.binding, pod.UID)
	delete(p.finished, pod.UID)
	p.mu.Unlock()
	if w != nil {
		w.gone()
	}
}

// bind is the scheduler's job for a one-Node cluster: every Pod goes to our Node.
func (p *podlet) bind(ctx context.Context, pod *corev1.Pod) {
	p.mu.Lock()
	if p.binding[pod.UID] {
		p.mu.Unlock()
		return
	}
	p.binding[pod.UID] = true
	p.mu.Unlock()
	go func() {
		b := &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: p.cfg.nodeName},
		}
		for attempt := 0; ; attempt++ {
			err := p.client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{})
			if err == nil {
				p.recorder.Eventf(pod, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, p.cfg.nodeName)
				return
			}
			if apierrors.IsNotFound(err) || apierrors.IsConflict(err) || ctx.Err() != nil || attempt == 20 {
				if !apierrors.IsNotFound(err) && ctx.Err() == nil {
					log.Printf("binding %s/%s: %v", pod.Namespace, pod.Name, err)
				}
				p.mu.Lock()
				delete(p.binding, pod.UID)
				p.mu.Unlock()
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

// forceDelete finishes a graceful deletion the way the kubelet's status manager does once the containers are gone.
func (p *podlet) forceDelete(ctx context.Context, pod *corev1.Pod) {
	zero := int64(0)
	err := p.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		log.Printf("force-deleting %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func (p *podlet) registerNode(ctx context.Context) error {
	nodes := p.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, p.cfg.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: p.cfg.nodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": p.cfg.nodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"portico.dev/podlet":     "true",
			},
			Annotations: map[string]string{
				"portico.dev/podlet": "simulated kubelet: containers run as local processes in network namespaces",
			},
		}}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{
		corev1.ResourceCPU: fmt.Sprint(numCPU()), corev1.ResourceMemory: memTotal(), corev1.ResourcePods: "250",
		corev1.ResourceEphemeralStorage: "10Gi",
	} {
		capacity[name] = mustQuantity(v)
	}
	node.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "podlet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", LastHeartbeatTime: now, LastTransitionTime: now},
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: p.cfg.nodeIP.String()},
			{Type: corev1.NodeHostName, Address: p.cfg.nodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(p.cfg.kubeletPort)}},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem: "linux", Architecture: "amd64", KubeletVersion: "podlet", KubeProxyVersion: "",
			ContainerRuntimeVersion: "podlet://processes-in-netns", OSImage: "podlet", KernelVersion: kernelVersion(),
		},
	}
	_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

var errGone = errors.New("pod is gone")
