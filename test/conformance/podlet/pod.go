package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// containerState is what the podlet knows about one container of a pod. Guarded by podWorker.mu.
type containerState struct {
	spec     corev1.Container
	binary   string
	proc     *process
	ready    bool
	restarts int32
	waiting  *corev1.ContainerStateWaiting
	lastTerm *corev1.ContainerStateTerminated
	term     *corev1.ContainerStateTerminated // final: restartPolicy says no restart
	logDir   string
}

func (c *containerState) logPath(restart int32) string {
	return filepath.Join(c.logDir, fmt.Sprintf("%d.log", restart))
}

// podWorker runs one pod bound to our Node, from volume set-up to force-delete.
type podWorker struct {
	p             *podlet
	uid           types.UID
	ns, name      string
	dir           string
	notify        chan struct{}
	goneCh        chan struct{}
	goneOnce      sync.Once
	stopCh        chan struct{} // podlet shutdown
	stopOnce      sync.Once
	killCh        chan struct{} // containers must stop (deletion or shutdown)
	killOnce      sync.Once
	supervisors   sync.WaitGroup
	mu            sync.Mutex
	pod           *corev1.Pod
	network       *podNetwork
	podIP         string // stays after the network is gone: a terminal pod keeps its IP in its status
	volumes       map[string]string
	setupMsg      *corev1.ContainerStateWaiting // why containers are not created yet
	containers    []*containerState
	startTime     metav1.Time
	transitions   map[corev1.PodConditionType]condState
	lastStatus    string
	eventsEmitted map[string]bool
}

type condState struct {
	status corev1.ConditionStatus
	at     metav1.Time
}

func newPodWorker(p *podlet, pod *corev1.Pod) *podWorker {
	w := &podWorker{
		p: p, uid: pod.UID, ns: pod.Namespace, name: pod.Name,
		dir:           filepath.Join(p.cfg.stateDir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		notify:        make(chan struct{}, 1),
		goneCh:        make(chan struct{}),
		stopCh:        make(chan struct{}),
		killCh:        make(chan struct{}),
		pod:           pod,
		startTime:     metav1.Now(),
		transitions:   map[corev1.PodConditionType]condState{},
		eventsEmitted: map[string]bool{},
	}
	for _, c := range pod.Spec.Containers {
		cs := &containerState{spec: c, logDir: filepath.Join(w.dir, "logs", c.Name)}
		cs.binary, _ = p.cfg.images.lookup(c.Image)
		cs.waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		w.containers = append(w.containers, cs)
	}
	return w
}

func (w *podWorker) update(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod
	w.mu.Unlock()
	w.poke()
}

func (w *podWorker) poke() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *podWorker) gone()     { w.goneOnce.Do(func() { close(w.goneCh) }) }
func (w *podWorker) shutdown() { w.stopOnce.Do(func() { close(w.stopCh) }) }
func (w *podWorker) kill()     { w.killOnce.Do(func() { close(w.killCh) }) }

func (w *podWorker) latest() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

// ending says whether the pod must stop: deleted (gracefully or not) or the podlet is shutting down.
func (w *podWorker) ending() bool {
	select {
	case <-w.goneCh:
		return true
	case <-w.stopCh:
		return true
	default:
	}
	return w.latest().DeletionTimestamp != nil
}

// sleep waits for d, an update of the pod, or the end; it reports whether the pod is ending.
func (w *podWorker) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.notify:
	case <-w.goneCh:
	case <-w.stopCh:
	case <-w.killCh:
	}
	return w.ending()
}

func (w *podWorker) event(kind, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.mu.Lock()
	key := reason + "\x00" + msg
	seen := w.eventsEmitted[key]
	w.eventsEmitted[key] = true
	w.mu.Unlock()
	if !seen {
		w.p.recorder.Event(w.latest(), kind, reason, msg)
	}
}

func (w *podWorker) run(ctx context.Context) {
	defer w.finish(ctx)
	pod := w.latest()
	if len(pod.Spec.InitContainers) > 0 || len(pod.Spec.EphemeralContainers) > 0 {
		w.setSetup("CreateContainerConfigError", "the podlet does not run init or ephemeral containers")
		w.event(corev1.EventTypeWarning, "Failed", "the podlet does not run init or ephemeral containers")
		w.writeStatus(ctx)
		for !w.sleep(time.Hour) {
		}
		return
	}

	// Volumes first, retried while a Secret or ConfigMap they need does not exist yet (kubelet: ContainerCreating).
	for {
		if w.ending() {
			return
		}
		vols, err := materializeVolumes(ctx, w.p.client, pod, filepath.Join(w.dir, "volumes"))
		if err == nil {
			w.mu.Lock()
			w.volumes, w.setupMsg = vols, nil
			w.mu.Unlock()
			break
		}
		var ve *volumeError
		retry := !errors.As(err, &ve) || ve.waiting
		reason := "ContainerCreating"
		if !retry {
			reason = "CreateContainerConfigError"
		}
		w.setSetup(reason, err.Error())
		w.event(corev1.EventTypeWarning, "FailedMount", "%s", err.Error())
		w.writeStatus(ctx)
		if !retry {
			for !w.sleep(time.Hour) {
			}
			return
		}
		if w.sleep(500 * time.Millisecond) {
			return
		}
		pod = w.latest()
	}

	// The pod's network namespace ("sandbox").
	for {
		if w.ending() {
			return
		}
		nw, err := w.p.setupNetwork()
		if err == nil {
			w.mu.Lock()
			w.network, w.podIP = nw, nw.ip.String()
			w.mu.Unlock()
			break
		}
		w.setSetup("ContainerCreating", "creating the pod network: "+err.Error())
		w.event(corev1.EventTypeWarning, "FailedCreatePodSandBox", "%v", err)
		w.writeStatus(ctx)
		if w.sleep(2 * time.Second) {
			return
		}
	}
	w.writeStatus(ctx)

	for _, c := range w.containers {
		w.supervisors.Add(1)
		go w.supervise(ctx, c)
	}
	for {
		ending := w.sleep(30 * time.Second)
		w.writeStatus(ctx)
		if ending {
			return
		}
	}
}

func (w *podWorker) setSetup(reason, msg string) {
	w.mu.Lock()
	w.setupMsg = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	w.mu.Unlock()
}

// finish stops the containers, removes the network namespace and the volumes, and force-deletes a deleted pod.
func (w *podWorker) finish(ctx context.Context) {
	pod := w.latest()
	grace := w.p.cfg.maxGrace
	if pod.DeletionGracePeriodSeconds != nil {
		if g := time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second; g < grace {
			grace = g
		}
	}
	w.kill()
	w.mu.Lock()
	var running []*process
	for _, c := range w.containers {
		if c.proc != nil {
			running = append(running, c.proc)
		}
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, pr := range running {
		wg.Add(1)
		go func() { defer wg.Done(); pr.stop(grace) }()
	}
	wg.Wait()
	w.supervisors.Wait()
	w.mu.Lock()
	nw := w.network
	w.network = nil
	w.mu.Unlock()
	if nw != nil {
		w.p.teardownNetwork(nw)
	}
	// Logs stay (they are small, and the run's post-mortem wants them); volumes (keys) and scratch go.
	_ = os.RemoveAll(filepath.Join(w.dir, "volumes"))
	_ = os.RemoveAll(filepath.Join(w.dir, "scratch"))

	select {
	case <-w.goneCh:
		return
	case <-w.stopCh:
		return
	default:
	}
	if pod.DeletionTimestamp != nil {
		// As the kubelet does: a terminal phase first (the namespace controller then stops waiting for the pod's
		// grace period), then the final delete.
		w.mu.Lock()
		for _, c := range w.containers {
			if c.term == nil {
				c.term = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
					Message: "The container could not be located when the pod was terminated", FinishedAt: metav1.Now()}
			}
			c.waiting = nil
		}
		w.mu.Unlock()
		w.writeStatus(ctx)
		w.p.forceDelete(ctx, pod)
	}
}

// supervise runs one container: start, watch for readiness, restart per restartPolicy with back-off.
func (w *podWorker) supervise(ctx context.Context, c *containerState) {
	defer w.supervisors.Done()
	defer w.poke()
	if c.binary == "" {
		msg := fmt.Sprintf("podlet: image %q has no local program; this harness runs only images of: %s", c.spec.Image, w.p.cfg.images.known())
		w.mu.Lock()
		c.waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: msg}
		w.mu.Unlock()
		log.Printf("%s/%s container %s: %s", w.ns, w.name, c.spec.Name, msg)
		w.event(corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", c.spec.Image, msg)
		w.poke()
		<-w.killCh
		return
	}
	backoff := time.Second
	for {
		select {
		case <-w.killCh:
			return
		default:
		}
		pod := w.latest()
		w.mu.Lock()
		nw, vols, restarts := w.network, w.volumes, c.restarts
		w.mu.Unlock()
		pr, reason, err := w.startContainer(ctx, pod, c, nw, vols, restarts)
		if err != nil {
			w.mu.Lock()
			c.waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: err.Error()}
			w.mu.Unlock()
			w.event(corev1.EventTypeWarning, "Failed", "Error: %v", err)
			w.poke()
			select {
			case <-w.killCh:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		w.mu.Lock()
		c.proc, c.waiting, c.ready = pr, nil, false
		w.mu.Unlock()
		w.event(corev1.EventTypeNormal, "Started", "Started container %s (pid %d)", c.spec.Name, pr.pid)
		w.poke()

		// Ready once the process listens; then just wait for it to end.
		tick := time.NewTicker(100 * time.Millisecond)
	watch:
		for {
			select {
			case <-pr.done:
				break watch
			case <-tick.C:
				if listening(pr.pid) {
					w.mu.Lock()
					c.ready = true
					w.mu.Unlock()
					w.poke()
					tick.Stop()
					<-pr.done
					break watch
				}
			}
		}
		tick.Stop()

		term := &corev1.ContainerStateTerminated{
			ExitCode: int32(pr.exitCode), Reason: "Completed",
			StartedAt: metav1.NewTime(pr.started), FinishedAt: metav1.NewTime(pr.finished),
			ContainerID: fmt.Sprintf("podlet://%d", pr.pid),
		}
		if pr.exitCode != 0 {
			term.Reason = "Error"
			term.Message = lastLines(c.logPath(restarts), 5)
		}
		select {
		case <-w.killCh:
			w.mu.Lock()
			c.proc, c.ready, c.term = nil, false, term
			w.mu.Unlock()
			return
		default:
		}
		policy := pod.Spec.RestartPolicy
		restart := policy == corev1.RestartPolicyAlways || policy == "" || (policy == corev1.RestartPolicyOnFailure && pr.exitCode != 0)
		if time.Since(pr.started) > time.Minute {
			backoff = time.Second
		}
		w.mu.Lock()
		c.proc, c.ready, c.lastTerm = nil, false, term
		if restart {
			c.restarts++
			c.waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", backoff, c.spec.Name, w.name, w.ns, w.uid)}
		} else {
			c.term = term
		}
		w.mu.Unlock()
		log.Printf("%s/%s container %s (pid %d) exited with %d%s", w.ns, w.name, c.spec.Name, pr.pid, pr.exitCode,
			map[bool]string{true: "; restarting", false: ""}[restart])
		w.poke()
		if !restart {
			return
		}
		w.event(corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", c.spec.Name, w.name)
		select {
		case <-w.killCh:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// startContainer resolves env, argv and mounts, and starts the process. The returned reason is the kubelet's
// waiting reason for the error.
func (w *podWorker) startContainer(ctx context.Context, pod *corev1.Pod, c *containerState, nw *podNetwork, vols map[string]string, restart int32) (*process, string, error) {
	env, err := resolveEnv(ctx, w.p.client, pod, &c.spec, nw.ip.String(), w.p.cfg.nodeIP.String())
	if err != nil {
		return nil, "CreateContainerConfigError", err
	}
	lookup := func(name string) (string, bool) {
		for _, e := range env {
			if e.name == name {
				return e.value, true
			}
		}
		return "", false
	}
	argv := []string{}
	if len(c.spec.Command) > 0 {
		cmd0 := expand(c.spec.Command[0], lookup)
		if filepath.Base(cmd0) != filepath.Base(c.binary) {
			return nil, "CreateContainerError", fmt.Errorf("command %q: the podlet only runs the image's own program (%s)", cmd0, filepath.Base(c.binary))
		}
		for _, a := range c.spec.Command[1:] {
			argv = append(argv, expand(a, lookup))
		}
	}
	for _, a := range c.spec.Args {
		argv = append(argv, expand(a, lookup))
	}
	var mounts []mount
	volType := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volType[v.Name] = v
	}
	for _, vm := range c.spec.VolumeMounts {
		src, ok := vols[vm.Name]
		if !ok {
			return nil, "CreateContainerConfigError", fmt.Errorf("volumeMount %q: no such volume", vm.Name)
		}
		if vm.SubPath != "" {
			src = filepath.Join(src, filepath.Clean("/"+vm.SubPath))
		}
		v := volType[vm.Name]
		ro := vm.ReadOnly || v.Secret != nil || v.ConfigMap != nil || v.Projected != nil // the kubelet mounts these read-only
		mounts = append(mounts, mount{src: src, dst: vm.MountPath, readOnly: ro})
	}
	workDir := c.spec.WorkingDir
	if workDir == "" {
		workDir = "/"
	}
	env = append([]envVar{{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, {"HOSTNAME", hostname(pod)}, {"HOME", "/root"}}, env...)
	scratch := filepath.Join(w.dir, "scratch", c.spec.Name, fmt.Sprint(restart))
	pr, err := w.p.startProcess(nw.netns, hostname(pod), c.binary, argv, env, mounts, workDir, scratch, c.logPath(restart))
	if err != nil {
		return nil, "RunContainerError", err
	}
	return pr, "", nil
}

func hostname(pod *corev1.Pod) string {
	h := pod.Name
	if pod.Spec.Hostname != "" {
		h = pod.Spec.Hostname
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// lastLines returns the last n lines of a container log file, without the CRI prefix (for a termination message).
func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if e, err := parseCRILine(l); err == nil {
			lines[i] = e.text
		}
	}
	return strings.Join(lines, "\n")
}

// status builds the pod status from what the worker knows.
func (w *podWorker) status() corev1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	pod := w.pod
	node := w.p.cfg.nodeIP.String()
	st := corev1.PodStatus{
		HostIP:             node,
		HostIPs:            []corev1.HostIP{{IP: node}},
		StartTime:          &w.startTime,
		QOSClass:           pod.Status.QOSClass,
		ObservedGeneration: pod.Generation,
		Phase:              corev1.PodPending,
	}
	if w.podIP != "" {
		st.PodIP = w.podIP
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	var unready []string
	anyRunning, allTerminated, allSucceeded := false, true, true
	for _, c := range w.containers {
		cs := corev1.ContainerStatus{
			Name: c.spec.Name, Image: c.spec.Image, ImageID: "podlet://" + c.binary,
			RestartCount: c.restarts, Ready: c.ready,
		}
		started := false
		switch {
		case c.proc != nil:
			started = true
			anyRunning = true
			cs.ContainerID = fmt.Sprintf("podlet://%d", c.proc.pid)
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.proc.started)}
		case c.term != nil:
			cs.ContainerID = c.term.ContainerID
			cs.State.Terminated = c.term
		case w.setupMsg != nil && c.waiting != nil && c.waiting.Reason == "ContainerCreating":
			cs.State.Waiting = w.setupMsg
		case c.waiting != nil:
			cs.State.Waiting = c.waiting
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		cs.Started = &started
		if c.lastTerm != nil {
			cs.LastTerminationState.Terminated = c.lastTerm
		}
		if c.term == nil {
			allTerminated = false
		} else if c.term.ExitCode != 0 {
			allSucceeded = false
		}
		if !c.ready {
			unready = append(unready, c.spec.Name)
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	switch {
	case len(w.containers) > 0 && allTerminated && allSucceeded:
		st.Phase = corev1.PodSucceeded
	case len(w.containers) > 0 && allTerminated:
		st.Phase = corev1.PodFailed
	case anyRunning || w.anyStartedLocked():
		st.Phase = corev1.PodRunning
	}

	ready := corev1.ConditionTrue
	reason, msg := "", ""
	if len(unready) > 0 {
		ready = corev1.ConditionFalse
		reason, msg = "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	}
	sandbox := corev1.ConditionFalse
	if w.network != nil {
		sandbox = corev1.ConditionTrue
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus, reason, msg string) corev1.PodCondition {
		prev, ok := w.transitions[t]
		if !ok || prev.status != s {
			prev = condState{status: s, at: metav1.Now()}
			w.transitions[t] = prev
		}
		return corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: prev.at, ObservedGeneration: pod.Generation}
	}
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, sandbox, "", ""),
		cond(corev1.PodInitialized, corev1.ConditionTrue, "", ""),
		cond(corev1.ContainersReady, ready, reason, msg),
		cond(corev1.PodReady, ready, reason, msg),
		cond(corev1.PodScheduled, corev1.ConditionTrue, "", ""),
	}
	return st
}

func (w *podWorker) anyStartedLocked() bool {
	for _, c := range w.containers {
		if c.lastTerm != nil || c.restarts > 0 {
			return true
		}
	}
	return false
}

// writeStatus writes the status if it changed since the last write. Conditions owned by others (e.g. DisruptionTarget)
// are kept.
func (w *podWorker) writeStatus(ctx context.Context) {
	st := w.status()
	key, _ := json.Marshal(st)
	w.mu.Lock()
	same := string(key) == w.lastStatus
	w.mu.Unlock()
	if same {
		return
	}
	pods := w.p.client.CoreV1().Pods(w.ns)
	pod := w.latest().DeepCopy()
	for attempt := 0; attempt < 5; attempt++ {
		mine := map[corev1.PodConditionType]bool{}
		for _, c := range st.Conditions {
			mine[c.Type] = true
		}
		merged := st
		merged.Conditions = append([]corev1.PodCondition(nil), st.Conditions...)
		for _, c := range pod.Status.Conditions {
			if !mine[c.Type] {
				merged.Conditions = append(merged.Conditions, c)
			}
		}
		pod.Status = merged
		_, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		if err == nil {
			w.mu.Lock()
			w.lastStatus = string(key)
			w.mu.Unlock()
			return
		}
		if apierrors.IsNotFound(err) || ctx.Err() != nil {
			return
		}
		if !apierrors.IsConflict(err) {
			log.Printf("%s/%s: writing status: %v", w.ns, w.name, err)
			time.Sleep(200 * time.Millisecond)
		}
		fresh, gerr := pods.Get(ctx, w.name, metav1.GetOptions{})
		if gerr != nil {
			return
		}
		if fresh.UID != w.uid {
			w.gone()
			return
		}
		pod = fresh
	}
	log.Printf("%s/%s: status not written after 5 attempts", w.ns, w.name)
}
