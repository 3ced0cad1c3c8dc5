// Command etcd is etcd's own server entry point, built here so that the etcd version comes from the same module
// graph as kube-apiserver (k8s.io/kubernetes requires go.etcd.io/etcd/server/v3 for its integration framework), not
// from Debian's much older package. It is exactly what etcd's root main.go does.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
