//go:build conformance

// TestHarnessSelfCheck checks the harness itself, without any Gateway API implementation: it creates the suite's base
// resources with the suite's own code (the same manifests, Applier and certificate helpers that Setup uses, in the
// same order: Deployments before the Secrets they mount), then checks what the podlet and KCM must provide for the
// suite: every base pod Ready on a real pod IP, EndpointSlices with ready endpoints, echo-basic answering with its
// pod name and namespace (env fieldRef), TLS backends serving the mounted Secret, coredns answering DNS, `kubectl
// logs` through the kubelet API (with the suite's DumpEchoLogs, the function the mirror tests use), an unknown image
// failing visibly, and the Namespaces finishing deletion with their pod network namespaces gone.
//
// Run it with `npm run conformance -- --selfcheck` (run.sh runs this binary inside the harness's network namespace).
package conformance

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/utils/kubernetes"
)

var selfcheckNamespaces = []string{"gateway-conformance-infra", "gateway-conformance-app-backend", "gateway-conformance-web-backend"}

func TestHarnessSelfCheck(t *testing.T) {
	opts := conformance.DefaultOptions(t)
	c, cs := opts.Client, opts.Clientset
	ctx := t.Context()
	logf := func(format string, args ...any) {
		t.Logf("%s "+format, append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}

	applier := kubernetes.Applier{
		ManifestFS:     []fs.FS{&conformance.Manifests},
		GatewayClass:   "portico",
		ControllerName: "portico.dev/gateway-controller",
	}
	start := time.Now()
	applier.MustApplyWithCleanup(t, c, opts.TimeoutConfig, "base/manifests.yaml", false)
	logf("base manifests applied")

	// Before the Secrets exist, a pod that mounts one must wait in ContainerCreating, saying why.
	must(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods("gateway-conformance-infra").List(ctx, metav1.ListOptions{LabelSelector: "app=tls-backend"})
		if err != nil || len(pods.Items) == 0 {
			return false, nil
		}
		for _, st := range pods.Items[0].Status.ContainerStatuses {
			if w := st.State.Waiting; w != nil && w.Reason == "ContainerCreating" && strings.Contains(w.Message, "not found") {
				logf("before its Secret exists, %s waits: %s: %s", pods.Items[0].Name, w.Reason, w.Message)
				return true, nil
			}
		}
		return false, nil
	}), "tls-backend never reported ContainerCreating for its missing Secret")

	// The Secrets and ConfigMaps of Setup (suite.go), created the same way, after the Deployments.
	applier.MustApplyObjectsWithCleanup(t, c, opts.TimeoutConfig, []client.Object{
		kubernetes.MustCreateSelfSignedCertSecret(t, "gateway-conformance-web-backend", "certificate", []string{"*"}),
		kubernetes.MustCreateSelfSignedCertSecret(t, "gateway-conformance-infra", "tls-validity-checks-certificate", []string{"*", "*.org", "*.wildcard.org"}),
	}, false)
	caCM, ca, caKey := kubernetes.MustCreateCACertConfigMap(t, "gateway-conformance-infra", "tls-checks-ca-certificate")
	applier.MustApplyObjectsWithCleanup(t, c, opts.TimeoutConfig, []client.Object{
		caCM,
		kubernetes.MustCreateCASignedCertSecret(t, "gateway-conformance-infra", "tls-checks-certificate", []string{"abc.example.com", "spiffe://abc.example.com/test-identity", "other.example.com"}, ca, caKey),
		kubernetes.MustCreateCASignedCertSecret(t, "gateway-conformance-infra", "tls-passthrough-checks-certificate", []string{"abc.example.com"}, ca, caKey),
		kubernetes.MustCreateCASignedCertSecret(t, "gateway-conformance-app-backend", "tls-passthrough-checks-certificate", []string{"abc.example.com"}, ca, caKey),
	}, false)
	logf("secrets created")

	// Every base pod Ready, with a pod IP from the bridge's subnet.
	want := 0
	for _, ns := range selfcheckNamespaces {
		deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		must(t, err, "listing Deployments")
		for _, d := range deps.Items {
			want += int(replicas(d))
		}
	}
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 180*time.Second, true, func(ctx context.Context) (bool, error) {
		var all []corev1.Pod
		ready := 0
		for _, ns := range selfcheckNamespaces {
			list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			for _, p := range list.Items {
				if p.DeletionTimestamp != nil {
					continue
				}
				all = append(all, p)
				if podReady(&p) {
					ready++
				}
			}
		}
		pods = all
		return ready == want && len(pods) == want, nil
	})
	if err != nil {
		for _, p := range pods {
			t.Logf("pod %s/%s ready=%v phase=%s statuses=%s", p.Namespace, p.Name, podReady(&p), p.Status.Phase, mustJSON(p.Status.ContainerStatuses))
		}
		t.Fatalf("not all %d base pods became Ready: %v", want, err)
	}
	logf("all %d base pods Ready, %.1fs after the manifests were applied", want, time.Since(start).Seconds())
	for _, p := range pods {
		ip := net.ParseIP(p.Status.PodIP)
		if ip == nil || !(&net.IPNet{IP: net.IPv4(10, 244, 0, 0), Mask: net.CIDRMask(16, 32)}).Contains(ip) || ip.IsLoopback() ||
			len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != p.Status.PodIP {
			t.Errorf("pod %s/%s: podIP %q podIPs %v, want one address in 10.244.0.0/16", p.Namespace, p.Name, p.Status.PodIP, p.Status.PodIPs)
		}
	}

	// EndpointSlices (KCM) list every pod of every Service as ready.
	must(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, ns := range selfcheckNamespaces {
			svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			for _, svc := range svcs.Items {
				sel := svc.Spec.Selector
				pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + sel["app"]})
				if err != nil {
					return false, nil
				}
				slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc.Name})
				if err != nil {
					return false, nil
				}
				ready := map[string]bool{}
				for _, s := range slices.Items {
					for _, e := range s.Endpoints {
						if e.Conditions.Ready != nil && *e.Conditions.Ready {
							ready[e.Addresses[0]] = true
						}
					}
				}
				for _, p := range pods.Items {
					if !ready[p.Status.PodIP] {
						return false, nil
					}
				}
			}
		}
		return true, nil
	}), "EndpointSlices do not list every base pod as ready")
	logf("EndpointSlices list every pod as a ready endpoint")

	// Traffic to the real backends on their pod IPs.
	httpClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	logsSince := time.Now().Add(-time.Second)
	checked := 0
	for _, p := range pods {
		app := p.Labels["app"]
		env := map[string]string{}
		for _, e := range p.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		addr := p.Status.PodIP
		switch {
		case env["UDP_ECHO_SERVER"] != "": // v1.7: echo-basic's UDP echo, a JSON envelope naming the pod
			body, err := udpEcho(net.JoinHostPort(addr, "8080"), "selfcheck")
			var got struct{ Request, Pod, Namespace string }
			if err == nil {
				err = json.Unmarshal(body, &got)
			}
			if err != nil || got.Request != "selfcheck" || got.Pod != p.Name || got.Namespace != p.Namespace {
				t.Errorf("udp echo %s/%s answered %q (%v): want the request, its own pod name and namespace", p.Namespace, p.Name, body, err)
			}
		case app == "udp": // v1.6: coredns
			m := new(dns.Msg)
			m.SetQuestion("foo.bar.com.", dns.TypeA)
			r, err := dns.Exchange(m, net.JoinHostPort(addr, "53"))
			if err != nil || len(r.Extra) == 0 {
				t.Errorf("coredns %s: %v %v", p.Name, err, r)
			}
		case env["GRPC_ECHO_SERVER"] != "":
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "3000"), 5*time.Second)
			if err != nil {
				t.Errorf("grpc echo %s: %v", p.Name, err)
			} else {
				conn.Close()
			}
		case env["TCP_ECHO_SERVER"] != "":
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort(addr, "8443"), &tls.Config{InsecureSkipVerify: true, ServerName: "abc.example.com"})
			if err != nil {
				t.Errorf("tcp echo (TLS on 8443, cert from the mounted Secret) %s: %v", p.Name, err)
			} else {
				if cn := conn.ConnectionState().PeerCertificates[0].DNSNames; len(cn) == 0 || cn[0] != "abc.example.com" {
					t.Errorf("tcp echo %s served certificate for %v", p.Name, cn)
				}
				conn.Close()
			}
		case env["TLS_SERVER_CERT"] != "":
			resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil,
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "abc.example.com"}}}).Get("https://" + net.JoinHostPort(addr, "8443") + "/selfcheck")
			if err != nil {
				t.Errorf("TLS echo %s: %v", p.Name, err)
			} else {
				resp.Body.Close()
			}
		default:
			resp, err := httpClient.Get("http://" + net.JoinHostPort(addr, "3000") + "/selfcheck")
			if err != nil {
				t.Errorf("echo %s: %v", p.Name, err)
				continue
			}
			var body struct{ Pod, Namespace, Path string }
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err := json.Unmarshal(b, &body); err != nil || body.Pod != p.Name || body.Namespace != p.Namespace {
				t.Errorf("echo %s/%s answered %s (%v): want its own pod name and namespace", p.Namespace, p.Name, b, err)
			}
		}
		checked++
	}
	logf("%d backends answered on their pod IPs (HTTP echo with pod/namespace from fieldRef, TLS with mounted certs, gRPC, TCP/TLS echo, DNS or UDP echo)", checked)

	// Pod logs through the apiserver and the podlet's kubelet API, read the way the mirror tests read them.
	must(t, wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		lines, err := kubernetes.DumpEchoLogs(ctx, "gateway-conformance-infra", "infra-backend-v1", c, cs, logsSince)
		if err != nil {
			return false, nil
		}
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "Echoing back request made to /selfcheck to client") {
				n++
			}
		}
		if n == 2 {
			logf("kubectl logs: both infra-backend-v1 pods logged the request (%d lines since %s)", len(lines), logsSince.Format(time.RFC3339))
		}
		return n == 2, nil
	}), "pod logs did not show the echo lines")
	// The same through the kubectl binary, when run.sh says where it is.
	if kubectl := os.Getenv("KUBECTL"); kubectl != "" {
		var p1 corev1.Pod
		for _, p := range pods {
			if p.Labels["app"] == "infra-backend-v1" {
				p1 = p
			}
		}
		out, err := exec.CommandContext(ctx, kubectl, "logs", "-n", p1.Namespace, p1.Name, "-c", "infra-backend-v1", "--tail=50", "--timestamps").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Echoing back request made to /selfcheck to client") {
			t.Errorf("kubectl logs %s: %v\n%s", p1.Name, err, out)
		} else {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			logf("kubectl logs --timestamps %s: %d lines, last: %s", p1.Name, len(lines), lines[len(lines)-1])
		}
	}
	// sinceTime in the future filters everything out.
	p0 := pods[0]
	b, err := cs.CoreV1().Pods(p0.Namespace).GetLogs(p0.Name, &corev1.PodLogOptions{Container: p0.Spec.Containers[0].Name,
		SinceTime: &metav1.Time{Time: time.Now().Add(time.Hour)}}).DoRaw(ctx)
	if err != nil || len(b) != 0 {
		t.Errorf("logs with sinceTime in the future: %q, %v", b, err)
	}

	// An image with no local program fails visibly.
	bad := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "unknown-image", Namespace: "gateway-conformance-infra"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/not-built-here:v1"}}}}
	_, err = cs.CoreV1().Pods(bad.Namespace).Create(ctx, bad, metav1.CreateOptions{})
	must(t, err, "creating the unknown-image pod")
	must(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(bad.Namespace).Get(ctx, bad.Name, metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 {
			return false, nil
		}
		w := p.Status.ContainerStatuses[0].State.Waiting
		if w != nil && w.Reason == "ErrImagePull" {
			logf("unknown image: pod %s phase=%s, container waiting: %s: %s", p.Name, p.Status.Phase, w.Reason, w.Message)
			return true, nil
		}
		return false, nil
	}), "the unknown-image pod did not report ErrImagePull")

	// Namespaces finish deleting (KCM's namespace controller + the podlet's prompt pod deletion).
	delStart := time.Now()
	for _, ns := range selfcheckNamespaces {
		must(t, cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}), "deleting namespace "+ns)
	}
	must(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, ns := range selfcheckNamespaces {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	}), "namespaces did not finish deleting")
	logf("the 3 namespaces finished deleting in %.1fs", time.Since(delStart).Seconds())

	if prefix := os.Getenv("PODLET_NETNS_PREFIX"); prefix != "" {
		must(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
			entries, err := os.ReadDir("/run/netns")
			if err != nil {
				return false, err
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), prefix) {
					return false, nil
				}
			}
			return true, nil
		}), "pod network namespaces are left behind")
		logf("no pod network namespace (%s*) left", prefix)
	}
}

func replicas(d appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprint(string(b))
}

// udpEcho sends one datagram and returns the answer (5 s at most).
func udpEcho(addr, payload string) ([]byte, error) {
	conn, err := net.DialTimeout("udp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte(payload)); err != nil {
		return nil, err
	}
	buf := make([]byte, 64*1024)
	n, err := conn.Read(buf)
	return buf[:n], err
}
