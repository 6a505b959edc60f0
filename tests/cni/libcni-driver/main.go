// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// libcni-driver: a thin command line over Debian's libcni (the client library of containerd,
// CRI-O and podman), so that tests/cni can drive the plugin through libcni's own ADD/CHECK/DEL:
// its VERSION validation, its request building, its result cache and version conversion.
// Built by test_client.sh in GOPATH mode, offline, against golang-github-appc-cni-dev.
//
//	libcni-driver validate|add|check|del CONFLIST CONTAINERID NETNS IFNAME
//
// Env: CNI_PATH (plugin dirs), CNI_CACHE_DIR (libcni's result cache), CNI_ARGS_EXTRA (K=V;...).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: libcni-driver validate|add|check|del CONFLIST CONTAINERID NETNS IFNAME")
		os.Exit(2)
	}
	cmd, file := os.Args[1], os.Args[2]
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conflist:", err)
		os.Exit(1)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")),
		os.Getenv("CNI_CACHE_DIR"), nil)
	rt := &libcni.RuntimeConf{
		ContainerID: os.Args[3],
		NetNS:       os.Args[4],
		IfName:      os.Args[5],
		CacheDir:    os.Getenv("CNI_CACHE_DIR"),
		Args:        [][2]string{{"IgnoreUnknown", "1"}},
	}
	for _, kv := range strings.Split(os.Getenv("CNI_ARGS_EXTRA"), ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			rt.Args = append(rt.Args, [2]string{k, v})
		}
	}
	ctx := context.Background()
	switch cmd {
	case "validate":
		var caps []string
		caps, err = cni.ValidateNetworkList(ctx, list)
		if err == nil {
			fmt.Println("capabilities:", caps)
		}
	case "add":
		res, e := cni.AddNetworkList(ctx, list, rt)
		err = e
		if err == nil {
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
		}
	case "check":
		err = cni.CheckNetworkList(ctx, list, rt)
	case "del":
		err = cni.DelNetworkList(ctx, list, rt)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
