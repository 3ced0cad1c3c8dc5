package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// volumeError says why a pod cannot start yet. waiting=true is the kubelet's "ContainerCreating" case (a referenced
// Secret or ConfigMap does not exist yet: retry); false means the pod can never start here (unsupported volume type).
type volumeError struct {
	msg     string
	waiting bool
}

func (e *volumeError) Error() string { return e.msg }

// materializeVolumes writes every volume of the pod into dir/<volume name>/ and returns volume name -> host path.
// Supported: secret, configMap (items, defaultMode, item mode, optional), emptyDir, and projected volumes made of
// secrets and configMaps. Files are written once, at pod start (the kubelet would also refresh them later).
func materializeVolumes(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, dir string) (map[string]string, error) {
	paths := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		target := filepath.Join(dir, v.Name)
		if err := os.RemoveAll(target); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			return nil, err
		}
		paths[v.Name] = target
		var err error
		switch {
		case v.Secret != nil:
			err = writeSecret(ctx, client, pod.Namespace, v.Name, v.Secret.SecretName, v.Secret.Items, v.Secret.DefaultMode, v.Secret.Optional, target)
		case v.ConfigMap != nil:
			err = writeConfigMap(ctx, client, pod.Namespace, v.Name, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.DefaultMode, v.ConfigMap.Optional, target)
		case v.EmptyDir != nil:
			err = os.Chmod(target, 0o777)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				switch {
				case src.Secret != nil:
					err = writeSecret(ctx, client, pod.Namespace, v.Name, src.Secret.Name, src.Secret.Items, v.Projected.DefaultMode, src.Secret.Optional, target)
				case src.ConfigMap != nil:
					err = writeConfigMap(ctx, client, pod.Namespace, v.Name, src.ConfigMap.Name, src.ConfigMap.Items, v.Projected.DefaultMode, src.ConfigMap.Optional, target)
				default:
					err = &volumeError{msg: fmt.Sprintf("volume %q: projected source other than secret/configMap is not supported by the podlet", v.Name)}
				}
				if err != nil {
					break
				}
			}
		default:
			err = &volumeError{msg: fmt.Sprintf("volume %q: only secret, configMap, emptyDir and projected(secret, configMap) volumes are supported by the podlet", v.Name)}
		}
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

func writeSecret(ctx context.Context, client kubernetes.Interface, ns, vol, name string, items []corev1.KeyToPath, mode *int32, optional *bool, dir string) error {
	s, err := client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if isTrue(optional) {
			return nil
		}
		return &volumeError{msg: fmt.Sprintf("MountVolume.SetUp failed for volume %q : secret %q not found", vol, name), waiting: true}
	}
	if err != nil {
		return &volumeError{msg: fmt.Sprintf("volume %q: %v", vol, err), waiting: true}
	}
	return writeKeys(vol, "secret", name, s.Data, items, mode, optional, dir)
}

func writeConfigMap(ctx context.Context, client kubernetes.Interface, ns, vol, name string, items []corev1.KeyToPath, mode *int32, optional *bool, dir string) error {
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if isTrue(optional) {
			return nil
		}
		return &volumeError{msg: fmt.Sprintf("MountVolume.SetUp failed for volume %q : configmap %q not found", vol, name), waiting: true}
	}
	if err != nil {
		return &volumeError{msg: fmt.Sprintf("volume %q: %v", vol, err), waiting: true}
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return writeKeys(vol, "configmap", name, data, items, mode, optional, dir)
}

func writeKeys(vol, kind, name string, data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, optional *bool, dir string) error {
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode)
	}
	type file struct {
		path string
		data []byte
		mode os.FileMode
	}
	var files []file
	if len(items) == 0 {
		for k, v := range data {
			files = append(files, file{k, v, mode})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if isTrue(optional) {
				continue
			}
			return &volumeError{msg: fmt.Sprintf("MountVolume.SetUp failed for volume %q : %s %q has no key %q", vol, kind, name, it.Key), waiting: true}
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		files = append(files, file{it.Path, v, m})
	}
	for _, f := range files {
		clean := filepath.Clean(f.path)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return &volumeError{msg: fmt.Sprintf("volume %q: bad path %q", vol, f.path)}
		}
		p := filepath.Join(dir, clean)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return err
		}
	}
	return nil
}
