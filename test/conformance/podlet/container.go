package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A container is one process, started as
//
//	ip netns exec <pod netns> <podlet> run-container --mount SRC:DST:ro ... -- <binary> <args...>
//
// `ip netns exec` enters the pod's network namespace and a fresh mount namespace (it unshares one to remount /sys), and
// execs in place; `run-container` (runContainer below, the same executable) then mounts the pod's volumes at their
// mountPaths inside that private mount namespace and execs the binary. So the recorded pid is the binary's own pid,
// and nothing it mounts is visible outside the container.

// process is one run of a container.
type process struct {
	cmd      *exec.Cmd
	pid      int
	started  time.Time
	done     chan struct{} // closed when the process has exited and its output is drained
	exitCode int
	exitErr  error
	finished time.Time
}

type logWriter struct {
	mu sync.Mutex
	f  *os.File
}

// write appends one line in the CRI log format the kubelet's log reader parses: "<RFC3339Nano> <stream> <F|P> <text>".
func (w *logWriter) write(stream string, partial bool, text []byte) {
	tag := "F"
	if partial {
		tag = "P"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.f, "%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, tag, text)
}

func (w *logWriter) copy(stream string, r io.Reader, wg *sync.WaitGroup) {
	defer wg.Done()
	br := bufio.NewReaderSize(r, 16*1024)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			full := line[len(line)-1] == '\n'
			if full {
				line = line[:len(line)-1]
			}
			w.write(stream, !full && err == bufio.ErrBufferFull, line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

type mount struct {
	src, dst string
	readOnly bool
}

// startProcess starts one run of a container and returns once it is running (or failed to start).
func (p *podlet) startProcess(netns, hostname, binary string, argv []string, env []envVar, mounts []mount, workDir, scratch, logPath string) (*process, error) {
	args := []string{"netns", "exec", netns, p.selfExe, "run-container", "--parent-mnt-ns", p.mntNS,
		"--scratch", scratch, "--hostname", hostname, "--workdir", workDir}
	for _, m := range mounts {
		ro := "rw"
		if m.readOnly {
			ro = "ro"
		}
		args = append(args, "--mount", m.src+":"+m.dst+":"+ro)
	}
	args = append(args, "--", binary)
	args = append(args, argv...)

	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", args...)
	cmd.Env = []string{}
	for _, e := range env {
		cmd.Env = append(cmd.Env, e.name+"="+e.value)
	}
	cmd.Dir = "/"
	// Own process group, so that SIGTERM/SIGKILL reach anything it forks; killed with the podlet, so that a podlet
	// that dies leaves no container behind; own UTS namespace, so that the hostname is the pod's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWUTS}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	pr := &process{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	lw := &logWriter{f: f}
	var wg sync.WaitGroup
	wg.Add(2)
	go lw.copy("stdout", stdout, &wg)
	go lw.copy("stderr", stderr, &wg)
	go func() {
		wg.Wait()
		err := cmd.Wait()
		pr.finished = time.Now()
		pr.exitErr = err
		pr.exitCode = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				pr.exitCode = 128 + int(ws.Signal())
			} else {
				pr.exitCode = ee.ExitCode()
			}
		} else if err != nil {
			pr.exitCode = 128
		}
		f.Close()
		close(pr.done)
	}()
	return pr, nil
}

// stop sends SIGTERM to the process group, and SIGKILL after grace.
func (pr *process) stop(grace time.Duration) {
	_ = syscall.Kill(-pr.pid, syscall.SIGTERM)
	select {
	case <-pr.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pr.pid, syscall.SIGKILL)
	select {
	case <-pr.done:
	case <-time.After(10 * time.Second):
		log.Printf("pid %d did not exit 10s after SIGKILL", pr.pid)
	}
}

// listening reports whether the process holds a listening TCP socket or a bound UDP socket: the podlet's readiness
// signal (stricter than a kubelet without probes, which calls a running container ready at once). It matches the
// socket inodes among the process's file descriptors with the listening sockets of its network namespace.
func listening(pid int) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	if len(inodes) == 0 {
		return false
	}
	for file, state := range map[string]string{"tcp": "0A", "tcp6": "0A", "udp": "07", "udp6": "07"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) >= 10 && f[3] == state && inodes[f[9]] {
				return true
			}
		}
	}
	return false
}

// runContainer is the `podlet run-container` helper (see the comment at the top of this file). It runs in the
// container's own mount namespace, sets up its mounts and hostname, and execs the container's binary.
func runContainer(args []string) {
	fs := flag.NewFlagSet("run-container", flag.ExitOnError)
	parentMntNS := fs.String("parent-mnt-ns", "", "the podlet's mount namespace (mounting there is refused)")
	scratch := fs.String("scratch", "", "directory for overlay upper/work dirs")
	hostname := fs.String("hostname", "", "hostname")
	workDir := fs.String("workdir", "/", "working directory")
	var mounts []mount
	fs.Func("mount", "SRC:DST:ro|rw", func(v string) error {
		parts := strings.Split(v, ":")
		if len(parts) != 3 {
			return fmt.Errorf("bad --mount %q", v)
		}
		mounts = append(mounts, mount{parts[0], parts[1], parts[2] == "ro"})
		return nil
	})
	_ = fs.Parse(args)
	argv := fs.Args()
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "podlet run-container: "+format+"\n", a...)
		os.Exit(127)
	}
	if len(argv) == 0 {
		fail("no command")
	}
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		fail("%v", err)
	}
	if len(mounts) > 0 && (self == *parentMntNS || *parentMntNS == "") {
		fail("not in a private mount namespace (%s); refusing to mount", self)
	}
	if *hostname != "" {
		if err := unix.Sethostname([]byte(*hostname)); err != nil {
			fail("sethostname: %v", err)
		}
	}
	// The program is opened before anything is mounted: a volume mounted over one of its parent directories (coredns's
	// ConfigMap at /root, with the binary cache under /root/.cache) would otherwise hide it. It is then executed through
	// /proc/self/fd (an ELF binary runs fine from a close-on-exec descriptor).
	prog, err := os.Open(argv[0])
	if err != nil {
		fail("%v", err)
	}
	overlaid := map[string]bool{}
	for i, m := range mounts {
		st, err := os.Stat(m.src)
		if err != nil {
			fail("mount source: %v", err)
		}
		if err := ensureMountpoint(m.dst, st.IsDir(), filepath.Join(*scratch, "overlay"), overlaid); err != nil {
			fail("mount %s: %v", m.dst, err)
		}
		if err := unix.Mount(m.src, m.dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			fail("bind %s on %s: %v", m.src, m.dst, err)
		}
		if m.readOnly {
			if err := unix.Mount("", m.dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC, ""); err != nil {
				fail("remount %s read-only: %v", m.dst, err)
			}
		}
		_ = i
	}
	if err := os.Chdir(*workDir); err != nil {
		fail("workingDir %s: %v", *workDir, err)
	}
	err = syscall.Exec(fmt.Sprintf("/proc/self/fd/%d", prog.Fd()), argv, os.Environ())
	fail("exec %s: %v", argv[0], err)
}

// ensureMountpoint makes dst exist inside this mount namespace without touching the host's file system: when dst (or
// a parent) is missing, the nearest existing ancestor gets a private overlay (upper dir in the pod's scratch dir),
// and dst is created in it. Such an ancestor must not be / itself.
func ensureMountpoint(dst string, dir bool, scratch string, overlaid map[string]bool) error {
	dst = filepath.Clean(dst)
	if !filepath.IsAbs(dst) {
		return fmt.Errorf("mountPath must be absolute")
	}
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	anc := filepath.Dir(dst)
	for {
		if _, err := os.Stat(anc); err == nil {
			break
		}
		anc = filepath.Dir(anc)
	}
	covered := false
	for a := anc; ; a = filepath.Dir(a) {
		if overlaid[a] {
			covered = true
			break
		}
		if a == "/" {
			break
		}
	}
	if !covered {
		if anc == "/" {
			return fmt.Errorf("cannot create %s: its parent would be /, which the podlet does not overlay", dst)
		}
		n := strconv.Itoa(len(overlaid))
		upper, work := filepath.Join(scratch, n, "upper"), filepath.Join(scratch, n, "work")
		if err := os.MkdirAll(upper, 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		opts := "lowerdir=" + anc + ",upperdir=" + upper + ",workdir=" + work
		if err := unix.Mount("overlay", anc, "overlay", 0, opts); err != nil {
			return fmt.Errorf("overlay on %s: %v", anc, err)
		}
		overlaid[anc] = true
	}
	if dir {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
