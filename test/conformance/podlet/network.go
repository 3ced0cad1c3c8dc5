package main

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Each pod gets its own network namespace <prefix><n> with eth0 = 10.244.x.y/16 (n derived from the address), whose
// peer v<n> hangs on the bridge in the podlet's (the harness's outer) namespace; default route via the bridge address.

type ipAllocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	gw     netip.Addr
	size   int
	next   int
	inUse  map[int]bool
}

func newIPAllocator(prefix netip.Prefix, gw netip.Addr) *ipAllocator {
	bits := prefix.Addr().BitLen() - prefix.Bits()
	size := 1 << min(bits, 20)
	return &ipAllocator{prefix: prefix.Masked(), gw: gw, size: size, next: 1, inUse: map[int]bool{}}
}

func (a *ipAllocator) addr(n int) netip.Addr {
	b := a.prefix.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// allocate hands out addresses in order and wraps around, so a released address is reused as late as possible (a
// stale EndpointSlice entry then points at nothing rather than at another pod).
func (a *ipAllocator) allocate() (int, netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < a.size; i++ {
		n := a.next
		a.next++
		if a.next >= a.size-1 {
			a.next = 1
		}
		addr := a.addr(n)
		if n == 0 || n >= a.size-1 || addr == a.gw || a.inUse[n] {
			continue
		}
		a.inUse[n] = true
		return n, addr, nil
	}
	return 0, netip.Addr{}, fmt.Errorf("no free address in %s", a.prefix)
}

func (a *ipAllocator) release(n int) {
	a.mu.Lock()
	delete(a.inUse, n)
	a.mu.Unlock()
}

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func checkBridge(bridge string, gw netip.Addr) error {
	ifc, err := net.InterfaceByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %s not found in this network namespace (start the podlet with nsenter --net=/run/netns/<outer>): %v", bridge, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr() == gw {
			return nil
		}
	}
	return fmt.Errorf("bridge %s does not have the address %s", bridge, gw)
}

type podNetwork struct {
	n     int
	ip    netip.Addr
	netns string
}

func (p *podlet) setupNetwork() (*podNetwork, error) {
	n, ip, err := p.ips.allocate()
	if err != nil {
		return nil, err
	}
	nw := &podNetwork{n: n, ip: ip, netns: fmt.Sprintf("%s%d", p.cfg.netnsPrefix, n)}
	veth := fmt.Sprintf("v%d", n)
	_ = run("ip", "netns", "del", nw.netns) // a leftover of a crash, if any
	steps := [][]string{
		{"netns", "add", nw.netns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", nw.netns},
		{"link", "set", veth, "master", p.cfg.bridge, "up"},
		{"-n", nw.netns, "link", "set", "lo", "up"},
		{"-n", nw.netns, "addr", "add", fmt.Sprintf("%s/%d", ip, p.cfg.podPrefix.Bits()), "dev", "eth0"},
		{"-n", nw.netns, "link", "set", "eth0", "up"},
		{"-n", nw.netns, "route", "add", "default", "via", p.cfg.nodeIP.String()},
	}
	for _, s := range steps {
		if err := run("ip", s...); err != nil {
			p.teardownNetwork(nw)
			return nil, err
		}
	}
	return nw, nil
}

// teardownNetwork removes the namespace; the kernel then destroys eth0 and with it the veth peer on the bridge.
func (p *podlet) teardownNetwork(nw *podNetwork) {
	if err := run("ip", "netns", "del", nw.netns); err != nil && !strings.Contains(err.Error(), "No such file") {
		fmt.Fprintf(os.Stderr, "podlet: %v\n", err)
	}
	_ = run("ip", "link", "del", fmt.Sprintf("v%d", nw.n)) // normally gone already
	p.ips.release(nw.n)
}

func numCPU() int { return runtime.NumCPU() }

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				return f[1] + "Ki"
			}
		}
	}
	return "8Gi"
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

func kernelVersion() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}
