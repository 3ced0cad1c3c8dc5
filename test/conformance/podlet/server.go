package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// The part of the kubelet API the apiserver uses for `kubectl logs` (pods/log): GET /containerLogs/{ns}/{pod}/{container}
// with the PodLogOptions the apiserver forwards (follow, previous, timestamps, sinceSeconds, sinceTime, tailLines,
// limitBytes, stream). exec, attach, port-forward and the rest answer 501. Served over TLS with a certificate for the
// Node's InternalIP signed by the cluster CA, which the apiserver verifies (--kubelet-certificate-authority). There is
// no client authentication: the address lives only inside the harness's network namespaces.

func (p *podlet) startKubeletAPI() (*http.Server, error) {
	cert, err := p.servingCert()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/containerLogs/", p.serveLogs)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("podlet: %s is not implemented (only /containerLogs and /healthz are)", r.URL.Path), http.StatusNotImplemented)
	})
	addr := net.JoinHostPort(p.cfg.nodeIP.String(), strconv.Itoa(p.cfg.kubeletPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Addr: addr, Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("kubelet API: %v", err)
		}
	}()
	return srv, nil
}

// servingCert makes a fresh key and a certificate for the node IP, signed by the cluster's CA.
func (p *podlet) servingCert() (tls.Certificate, error) {
	caPEM, err := os.ReadFile(p.cfg.caCert)
	if err != nil {
		return tls.Certificate{}, err
	}
	block, _ := pem.Decode(caPEM)
	if block == nil {
		return tls.Certificate{}, fmt.Errorf("%s: no PEM certificate", p.cfg.caCert)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := os.ReadFile(p.cfg.caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	var caKey any
keys:
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "EC PRIVATE KEY":
			caKey, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			caKey, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "PRIVATE KEY":
			caKey, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		default:
			continue
		}
		break keys
	}
	if err != nil || caKey == nil {
		return tls.Certificate{}, fmt.Errorf("%s: no usable private key (%v)", p.cfg.caKey, err)
	}
	switch caKey.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
	default:
		return tls.Certificate{}, fmt.Errorf("%s: unsupported key type %T", p.cfg.caKey, caKey)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "system:node:" + p.cfg.nodeName, Organization: []string{"system:nodes"}},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(p.cfg.nodeIP.String())},
		DNSNames:     []string{p.cfg.nodeName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

type logEntry struct {
	ts      time.Time
	raw     string // the timestamp as written
	stream  string
	partial bool
	text    string
}

func parseCRILine(line string) (logEntry, error) {
	f := strings.SplitN(line, " ", 4)
	if len(f) < 3 {
		return logEntry{}, fmt.Errorf("bad log line")
	}
	ts, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return logEntry{}, err
	}
	e := logEntry{ts: ts, raw: f[0], stream: f[1], partial: f[2] == "P"}
	if len(f) == 4 {
		e.text = f[3]
	}
	return e, nil
}

type logQuery struct {
	follow, previous, timestamps bool
	since                        time.Time
	tail                         int64 // -1: all
	limit                        int64 // -1: unlimited
	stream                       string
}

func parseLogQuery(q map[string][]string) (logQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	lq := logQuery{tail: -1, limit: -1, follow: get("follow") == "true", previous: get("previous") == "true",
		timestamps: get("timestamps") == "true", stream: get("stream")}
	if v := get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return lq, fmt.Errorf("sinceTime: %v", err)
		}
		lq.since = t
	}
	if v := get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return lq, fmt.Errorf("sinceSeconds: %v", err)
		}
		lq.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	for k, dst := range map[string]*int64{"tailLines": &lq.tail, "limitBytes": &lq.limit} {
		if v := get(k); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return lq, fmt.Errorf("%s: bad value %q", k, v)
			}
			*dst = n
		}
	}
	return lq, nil
}

func (lq logQuery) wants(e logEntry) bool {
	if !lq.since.IsZero() && e.ts.Before(lq.since) {
		return false
	}
	switch strings.ToLower(lq.stream) {
	case "stdout":
		return e.stream == "stdout"
	case "stderr":
		return e.stream == "stderr"
	}
	return true
}

// render turns entries into what `kubectl logs` prints: partial lines are joined, a timestamp prefixed on request.
func (lq logQuery) render(entries []logEntry) []string {
	var out []string
	var cur strings.Builder
	var first *logEntry
	for i := range entries {
		e := &entries[i]
		if first == nil {
			first = e
		}
		cur.WriteString(e.text)
		if e.partial {
			continue
		}
		line := cur.String() + "\n"
		if lq.timestamps {
			line = first.raw + " " + line
		}
		out = append(out, line)
		cur.Reset()
		first = nil
	}
	return out
}

func (p *podlet) serveLogs(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) != 3 {
		http.Error(w, "want /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	ns, podName, container := parts[0], parts[1], parts[2]
	lq, err := parseLogQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	var pw *podWorker
	for _, cand := range p.workers {
		if cand.ns == ns && cand.name == podName {
			pw = cand
		}
	}
	p.mu.Unlock()
	if pw == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s is not running on this node", ns, podName), http.StatusNotFound)
		return
	}
	pw.mu.Lock()
	var cs *containerState
	for _, c := range pw.containers {
		if c.spec.Name == container {
			cs = c
		}
	}
	if cs == nil {
		pw.mu.Unlock()
		http.Error(w, fmt.Sprintf("container %q not found in pod %s/%s", container, ns, podName), http.StatusNotFound)
		return
	}
	restarts, running, waiting := cs.restarts, cs.proc, cs.waiting
	everRan := cs.proc != nil || cs.lastTerm != nil || cs.term != nil
	pw.mu.Unlock()

	instance := restarts
	if running == nil && waiting != nil && cs.lastTerm != nil {
		instance = restarts - 1 // between runs: the last run's log, as the kubelet shows it
	}
	if lq.previous {
		if cs.lastTerm == nil {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", container, podName), http.StatusBadRequest)
			return
		}
		instance--
		lq.follow = false
		if instance < 0 {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", container, podName), http.StatusBadRequest)
			return
		}
	}
	if !everRan {
		reason := "ContainerCreating"
		if waiting != nil {
			reason = waiting.Reason
		}
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: %s", container, podName, reason), http.StatusBadRequest)
		return
	}
	f, err := os.Open(cs.logPath(instance))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()

	w.Header().Set("Content-Type", "text/plain")
	br := bufio.NewReader(f)
	var entries []logEntry
	readAll := func() {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				// an incomplete last line is left for the next read
				if len(line) > 0 {
					_, _ = f.Seek(-int64(len(line)), io.SeekCurrent)
					br.Reset(f)
				}
				return
			}
			e, perr := parseCRILine(strings.TrimSuffix(line, "\n"))
			if perr == nil && lq.wants(e) {
				entries = append(entries, e)
			}
		}
	}
	readAll()
	lines := lq.render(entries)
	entries = nil
	if lq.tail >= 0 && int64(len(lines)) > lq.tail {
		lines = lines[int64(len(lines))-lq.tail:]
	}
	written := int64(0)
	emit := func(lines []string) bool {
		for _, l := range lines {
			if lq.limit >= 0 && written+int64(len(l)) > lq.limit {
				_, _ = io.WriteString(w, l[:lq.limit-written])
				return false
			}
			if _, err := io.WriteString(w, l); err != nil {
				return false
			}
			written += int64(len(l))
		}
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		return true
	}
	if !emit(lines) || !lq.follow {
		return
	}
	var done <-chan struct{}
	if running != nil {
		done = running.done
	} else {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-done:
			readAll()
			emit(lq.render(entries))
			return
		case <-time.After(200 * time.Millisecond):
		}
		readAll()
		// keep a trailing partial entry for the next round
		n := len(entries)
		for n > 0 && entries[n-1].partial {
			n--
		}
		if !emit(lq.render(entries[:n])) {
			return
		}
		entries = append([]logEntry(nil), entries[n:]...)
	}
}
