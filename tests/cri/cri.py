"""cri.py — a minimal client of the Kubernetes Container Runtime Interface
(CRI), for tests/cri: what a kubelet sends containerd's CRI plugin, without
generated stubs.

API: CRI v1, package runtime.v1 (k8s.io/cri-api pkg/apis/runtime/v1/api.proto,
field numbers as of cri-api v0.25, the API containerd 1.6 serves; field
numbers never change within v1). Only the fields this client uses are
encoded or decoded; every message is written by hand in the protobuf wire
format (varints, length-delimited fields, maps as repeated key=1/value=2
entries) and sent as raw bytes to the gRPC method's full name
(/runtime.v1.RuntimeService/..., /runtime.v1.ImageService/...). Needs
python3-grpcio (Debian).

Invariants: proto3 defaults (0, "", false, empty) are omitted when encoding
and read back as defaults when decoding; unknown fields in responses are
skipped. Errors from the runtime raise grpc.RpcError (.code(), .details()).

Command line (for poking a runtime by hand):
    python3 cri.py SOCKET version
    python3 cri.py SOCKET pods | containers
"""
import os
import sys

import grpc

# enum values (api.proto)
NS_POD, NS_CONTAINER, NS_NODE = 0, 1, 2                       # NamespaceMode
SANDBOX_READY, SANDBOX_NOTREADY = 0, 1                        # PodSandboxState
CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED, CONTAINER_UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {0: "CREATED", 1: "RUNNING", 2: "EXITED", 3: "UNKNOWN"}


# ---- wire format: encoding
def _varint(n):
    if n < 0:
        n += 1 << 64  # int32/int64 negatives: ten-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(num, wire):
    return _varint(num << 3 | wire)


def f_int(num, v):
    """varint field (int32, int64, uint32, bool, enum); omitted when 0."""
    return _key(num, 0) + _varint(int(v)) if v else b""


def f_bytes(num, b):
    """length-delimited field (bytes, embedded message); omitted when empty."""
    return _key(num, 2) + _varint(len(b)) + b if b else b""


def f_str(num, s):
    return f_bytes(num, s.encode()) if s else b""


def f_msg(num, m):
    """an embedded message; present even when empty (b'' is not None)."""
    if m is None:
        return b""
    return _key(num, 2) + _varint(len(m)) + m


def f_strs(num, items):
    return b"".join(_key(num, 2) + _varint(len(s.encode())) + s.encode() for s in items or [])


def f_map(num, d):
    """map<string,string>: one entry message {1: key, 2: value} per item."""
    return b"".join(f_msg(num, f_str(1, k) + f_str(2, v)) for k, v in sorted((d or {}).items()))


# ---- wire format: decoding
def _read_varint(b, i):
    n = shift = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def decode(b):
    """Returns {field number: [values]}: ints for varints, bytes for
    length-delimited fields; fixed32/fixed64 fields as ints."""
    out, i = {}, 0
    while i < len(b):
        k, i = _read_varint(b, i)
        num, wire = k >> 3, k & 7
        if wire == 0:
            v, i = _read_varint(b, i)
        elif wire == 2:
            n, i = _read_varint(b, i)
            v, i = bytes(b[i:i + n]), i + n
        elif wire == 1:
            v, i = int.from_bytes(b[i:i + 8], "little"), i + 8
        elif wire == 5:
            v, i = int.from_bytes(b[i:i + 4], "little"), i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.setdefault(num, []).append(v)
    return out


def _s(m, num):
    return m.get(num, [b""])[-1].decode()


def _i(m, num):
    v = m.get(num, [0])[-1]
    if v >= 1 << 63:
        v -= 1 << 64
    return v


def _m(m, num):
    return decode(m.get(num, [b""])[-1])


def _map(m, num):
    out = {}
    for e in m.get(num, []):
        d = decode(e)
        out[_s(d, 1)] = _s(d, 2)
    return out


# ---- messages (only the fields used)
def pod_sandbox_config(name, uid, namespace="default", log_directory="", hostname="",
                       labels=None, annotations=None, cgroup_parent="",
                       network=NS_NODE, pid=NS_POD, ipc=NS_POD):
    """PodSandboxConfig: metadata(1){name 1, uid 2, namespace 3, attempt 4},
    hostname 2, log_directory 3, labels 6, annotations 7, linux 8
    {cgroup_parent 1, security_context 2 {namespace_options 1 {network 1,
    pid 2, ipc 3}}}."""
    ns = f_int(1, network) + f_int(2, pid) + f_int(3, ipc)
    linux = f_str(1, cgroup_parent) + f_msg(2, f_msg(1, ns))
    return (f_msg(1, f_str(1, name) + f_str(2, uid) + f_str(3, namespace)) + f_str(2, hostname)
            + f_str(3, log_directory) + f_map(6, labels) + f_map(7, annotations) + f_msg(8, linux))


def container_config(name, image, command=None, args=None, envs=None, mounts=None,
                     log_path="", labels=None, annotations=None, restricted=False,
                     memory_limit=0, cpu_period=0, cpu_quota=0, cpu_shares=0):
    """ContainerConfig: metadata(1){name 1}, image 2 {image 1}, command 3,
    args 4, envs 6 {key 1, value 2}, mounts 7 {container_path 1, host_path 2,
    readonly 3}, labels 9, annotations 10, log_path 11, linux 15 {resources 1
    {cpu_period 1, cpu_quota 2, cpu_shares 3, memory_limit_in_bytes 4},
    security_context 2}.
    mounts: [(container_path, host_path, readonly)]. restricted: what a pod's
    securityContext {capabilities: drop ALL, readOnlyRootFilesystem,
    allowPrivilegeEscalation: false, seccompProfile: RuntimeDefault} becomes:
    security_context {capabilities 1 {drop_capabilities 2}, readonly_rootfs 7,
    no_new_privs 11, seccomp 15 {profile_type 1 = RuntimeDefault (0)}}."""
    env = b"".join(f_msg(6, f_str(1, k) + f_str(2, v)) for k, v in (envs or []))
    mnt = b"".join(f_msg(7, f_str(1, c) + f_str(2, h) + f_int(3, ro)) for c, h, ro in mounts or [])
    linux = b""
    res = f_int(1, cpu_period) + f_int(2, cpu_quota) + f_int(3, cpu_shares) + f_int(4, memory_limit)
    if res:
        linux += f_msg(1, res)
    if restricted:
        linux += f_msg(2, f_msg(1, f_strs(2, ["ALL"])) + f_int(7, True) + f_int(11, True)
                       + f_msg(15, b""))
    return (f_msg(1, f_str(1, name)) + f_msg(2, f_str(1, image)) + f_strs(3, command)
            + f_strs(4, args) + env + mnt + f_map(9, labels) + f_map(10, annotations)
            + f_str(11, log_path) + (f_msg(15, linux) if linux else b""))


class Client:
    """One gRPC channel to a CRI endpoint (a unix socket path)."""

    def __init__(self, socket_path, timeout=60):
        self.ch = grpc.insecure_channel("unix://" + os.path.abspath(socket_path))
        self.timeout = timeout

    def close(self):
        self.ch.close()

    def call(self, service, method, req, timeout=None):
        """Raw call: req bytes in, response bytes out; raises grpc.RpcError."""
        fn = self.ch.unary_unary("/runtime.v1.%s/%s" % (service, method),
                                 request_serializer=None, response_deserializer=None)
        return fn(req, timeout=timeout or self.timeout)

    def rt(self, method, req, timeout=None):
        return decode(self.call("RuntimeService", method, req, timeout))

    # RuntimeService
    def version(self):
        """VersionRequest{version 1} -> {version, runtime_name,
        runtime_version, runtime_api_version} (fields 1-4)."""
        m = self.rt("Version", f_str(1, "v1"))
        return {"version": _s(m, 1), "runtime_name": _s(m, 2), "runtime_version": _s(m, 3),
                "runtime_api_version": _s(m, 4)}

    def status(self):
        """StatusRequest{verbose 1} -> status 1 {conditions 1 {type 1, status 2,
        reason 3, message 4}}: {type: (status, reason, message)}."""
        m = self.rt("Status", b"")
        out = {}
        for cd in map(decode, _m(m, 1).get(1, [])):
            out[_s(cd, 1)] = (bool(_i(cd, 2)), _s(cd, 3), _s(cd, 4))
        return out

    def run_pod_sandbox(self, config, runtime_handler=""):
        """RunPodSandboxRequest{config 1, runtime_handler 2} -> pod_sandbox_id (1)."""
        return _s(self.rt("RunPodSandbox", f_msg(1, config) + f_str(2, runtime_handler),
                          timeout=120), 1)

    def pod_sandbox_status(self, pod_id, verbose=False):
        """PodSandboxStatusRequest{pod_sandbox_id 1, verbose 2} ->
        status 1 {id 1, state 3, runtime_handler 9}, info 2."""
        m = self.rt("PodSandboxStatus", f_str(1, pod_id) + f_int(2, verbose))
        st = _m(m, 1)
        return {"id": _s(st, 1), "state": _i(st, 3), "runtime_handler": _s(st, 9),
                "info": _map(m, 2)}

    def list_pod_sandbox(self):
        """ListPodSandboxRequest{} -> items 1 {id 1, state 3}."""
        m = self.rt("ListPodSandbox", b"")
        return [{"id": _s(d, 1), "state": _i(d, 3)} for d in map(decode, m.get(1, []))]

    def stop_pod_sandbox(self, pod_id):
        self.rt("StopPodSandbox", f_str(1, pod_id), timeout=120)

    def remove_pod_sandbox(self, pod_id):
        self.rt("RemovePodSandbox", f_str(1, pod_id), timeout=120)

    def create_container(self, pod_id, config, sandbox_config):
        """CreateContainerRequest{pod_sandbox_id 1, config 2, sandbox_config 3}
        -> container_id (1)."""
        return _s(self.rt("CreateContainer", f_str(1, pod_id) + f_msg(2, config)
                          + f_msg(3, sandbox_config), timeout=120), 1)

    def start_container(self, cid):
        self.rt("StartContainer", f_str(1, cid), timeout=120)

    def stop_container(self, cid, timeout):
        """StopContainerRequest{container_id 1, timeout 2 (seconds)}."""
        self.rt("StopContainer", f_str(1, cid) + f_int(2, timeout), timeout=timeout + 60)

    def remove_container(self, cid):
        self.rt("RemoveContainer", f_str(1, cid), timeout=120)

    def container_status(self, cid, verbose=False):
        """ContainerStatusRequest{container_id 1, verbose 2} -> status 1 {id 1,
        metadata 2 {name 1}, state 3, exit_code 7, image 8 {image 1},
        image_ref 9, reason 10, message 11, log_path 15}, info 2."""
        m = self.rt("ContainerStatus", f_str(1, cid) + f_int(2, verbose))
        st = _m(m, 1)
        ec = _i(st, 7)
        if ec >= 1 << 31:
            ec -= 1 << 32
        return {"id": _s(st, 1), "name": _s(_m(st, 2), 1), "state": _i(st, 3), "exit_code": ec,
                "image": _s(_m(st, 8), 1), "image_ref": _s(st, 9), "reason": _s(st, 10),
                "message": _s(st, 11), "log_path": _s(st, 15), "info": _map(m, 2)}

    def list_containers(self, pod_id=""):
        """ListContainersRequest{filter 1 {pod_sandbox_id 3}} -> containers 1
        {id 1, pod_sandbox_id 2, metadata 3 {name 1}, state 6}."""
        m = self.rt("ListContainers", f_msg(1, f_str(3, pod_id)))
        return [{"id": _s(d, 1), "pod_sandbox_id": _s(d, 2), "name": _s(_m(d, 3), 1),
                 "state": _i(d, 6)} for d in map(decode, m.get(1, []))]

    def exec_sync(self, cid, cmd, timeout):
        """ExecSyncRequest{container_id 1, cmd 2, timeout 3} -> {stdout 1,
        stderr 2, exit_code 3}."""
        m = self.rt("ExecSync", f_str(1, cid) + f_strs(2, cmd) + f_int(3, timeout),
                    timeout=timeout + 60)
        return {"stdout": m.get(1, [b""])[-1], "stderr": m.get(2, [b""])[-1],
                "exit_code": _i(m, 3)}

    # ImageService
    def image_status(self, image):
        """ImageStatusRequest{image 1 {image 1}} -> image 1 {id 1, repo_tags 2,
        size 4}; None when the runtime does not have it."""
        m = decode(self.call("ImageService", "ImageStatus", f_msg(1, f_str(1, image))))
        if 1 not in m:
            return None
        im = _m(m, 1)
        return {"id": _s(im, 1), "repo_tags": [t.decode() for t in im.get(2, [])],
                "size": _i(im, 4)}


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: cri.py SOCKET version|pods|containers\n")
        return 2
    c = Client(argv[1])
    if argv[2] == "version":
        print(c.version())
    elif argv[2] == "pods":
        for p in c.list_pod_sandbox():
            print(p["id"], "READY" if p["state"] == SANDBOX_READY else "NOTREADY")
    elif argv[2] == "containers":
        for x in c.list_containers():
            print(x["id"], x["pod_sandbox_id"], x["name"], STATE_NAMES.get(x["state"]))
    else:
        sys.stderr.write("cri.py: unknown command %s\n" % argv[2])
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
