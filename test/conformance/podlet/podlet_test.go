package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for in, want := range map[string]string{
		"$(A)-$(B)":   "1-two",
		"$(C)":        "$(C)",
		"$$(A)":       "$(A)",
		"x$":          "x$",
		"$(A":         "$(A",
		"/etc/$(B)/x": "/etc/two/x",
		"$A":          "$A",
	} {
		if got := expand(in, lookup); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldValue(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{NodeName: "podlet"}}
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "metadata.uid": "u", "spec.nodeName": "podlet",
		"status.podIP": "10.244.0.7", "status.hostIP": "10.244.0.1", "metadata.labels['app']": "x",
	} {
		got, err := fieldValue(pod, path, "10.244.0.7", "10.244.0.1")
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := fieldValue(pod, "spec.bogus", "", ""); err == nil {
		t.Error("unsupported fieldRef accepted")
	}
}

func TestImageLookup(t *testing.T) {
	m := imageMap{"registry.k8s.io/gateway-api/echo-basic": "/bin/echo", "registry.k8s.io/coredns/coredns": "/bin/dns"}
	for img, want := range map[string]string{
		"registry.k8s.io/gateway-api/echo-basic:v1.5.1":       "/bin/echo",
		"registry.k8s.io/gateway-api/echo-basic@sha256:abcd":  "/bin/echo",
		"registry.k8s.io/coredns/coredns:v1.12.2":             "/bin/dns",
		"registry.k8s.io/gateway-api/echo-advanced:v1.5.1":    "",
		"localhost:5000/registry.k8s.io/coredns/coredns:v1.0": "",
	} {
		got, _ := m.lookup(img)
		if got != want {
			t.Errorf("lookup(%q) = %q, want %q", img, got, want)
		}
	}
}

func TestIPAllocator(t *testing.T) {
	a := newIPAllocator(netip.MustParsePrefix("10.244.0.0/16"), netip.MustParseAddr("10.244.0.1"))
	n1, ip1, _ := a.allocate()
	_, ip2, _ := a.allocate()
	if ip1.String() != "10.244.0.2" || ip2.String() != "10.244.0.3" {
		t.Fatalf("got %s %s", ip1, ip2)
	}
	a.release(n1)
	_, ip3, _ := a.allocate()
	if ip3.String() != "10.244.0.4" {
		t.Fatalf("a released address came back at once: %s", ip3)
	}
}

func TestLogQuery(t *testing.T) {
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	lines := []string{
		base.Format(time.RFC3339Nano) + " stdout F first",
		base.Add(2*time.Second).Format(time.RFC3339Nano) + " stderr P par",
		base.Add(2*time.Second).Format(time.RFC3339Nano) + " stderr F tial",
		base.Add(3*time.Second).Format(time.RFC3339Nano) + " stdout F third",
	}
	var entries []logEntry
	q, err := parseLogQuery(map[string][]string{"sinceTime": {base.Add(time.Second).Format(time.RFC3339)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		e, err := parseCRILine(l)
		if err != nil {
			t.Fatal(err)
		}
		if q.wants(e) {
			entries = append(entries, e)
		}
	}
	got := strings.Join(q.render(entries), "")
	if got != "partial\nthird\n" {
		t.Fatalf("got %q", got)
	}
	q.timestamps = true
	if got := q.render(entries)[1]; !strings.HasPrefix(got, base.Add(3*time.Second).Format(time.RFC3339Nano)+" third") {
		t.Fatalf("got %q", got)
	}
}
