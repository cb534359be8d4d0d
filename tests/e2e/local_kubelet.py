#!/usr/bin/env python3
"""local_kubelet.py: plays the kubelet (and cluster DNS) for the pods of TrainingJobs, so an
end-to-end test can run real training through the operator on one machine.

Every pod that appears in NAMESPACE with the label ringtrain.io/job-name is run as a local
process of RINGTRAIN (`ringtrain <args>`) with the pod's environment, as a kubelet would, and
its phase, IP, readiness, exit code and termination message are written back through the
pod's status subresource. Each pod gets an address of its own on the loopback network
(127.0.<role>.<index + 1>), which stands for its pod IP: what the pod would bind on "*" it binds
there, and the in-cluster DNS names of parameter servers in RINGTRAIN_PS_ENDPOINTS are resolved
to those addresses (the cluster DNS's part). The ConfigMap volume is a file written from the
job's ConfigMap; the termination log a file per pod. A pod deleted while its process runs gets
SIGTERM (then SIGKILL after 10 s), as on a node.

Usage: local_kubelet.py --kubectl K --namespace NS --runtime RINGTRAIN --workdir DIR
                        [--timeout SECONDS]
Stops by itself after --timeout seconds, or on SIGTERM; every process it started goes with it.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

ROLE_NET = {"ps": 1, "worker": 2}


def kubectl(args, base, stdin=None, check=True):
    r = subprocess.run(base + args, input=stdin, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def pod_ip(pod):
    labels = pod["metadata"].get("labels", {})
    role = labels.get("ringtrain.io/role", "worker")
    return f"127.0.{ROLE_NET.get(role, 3)}.{int(labels.get('ringtrain.io/index', '0')) + 1}"


def set_status(base, ns, name, phase, ip, exit_code=None, message="", ready=False):
    container = {"name": "main", "image": "ringtrain/runtime:local", "imageID": "",
                 "ready": ready, "restartCount": 0}
    if exit_code is None:
        container["state"] = {"running": {"startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                     time.gmtime())}}
    else:
        container["state"] = {"terminated": {"exitCode": exit_code, "message": message[:4096],
                                             "reason": "Completed" if exit_code == 0 else "Error"}}
    status = {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}],
              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
              "containerStatuses": [container]}
    kubectl(["-n", ns, "patch", "pod", name, "--subresource=status", "--type=merge", "-p",
             json.dumps({"status": status})], base, check=False)


class Kubelet:
    def __init__(self, a):
        self.a = a
        self.base = [a.kubectl]
        self.procs = {}  # pod uid -> (Popen, pod name, ip, termination log path)
        self.done = set()  # uids that ran to the end

    def start(self, pod):
        meta = pod["metadata"]
        ns, name = meta["namespace"], meta["name"]
        job = meta["labels"]["ringtrain.io/job-name"]
        ip = pod_ip(pod)
        container = pod["spec"]["containers"][0]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for e in container.get("env", []):
            env[e["name"]] = e.get("value", "")
        spec_dir = os.path.join(self.a.workdir, f"{ns}-{job}-spec")
        os.makedirs(spec_dir, exist_ok=True)
        cm = json.loads(kubectl(["-n", ns, "get", "configmap", f"{job}-spec", "-o", "json"],
                                self.base))
        for key, text in cm.get("data", {}).items():
            with open(os.path.join(spec_dir, key), "w") as f:
                f.write(text)
        env["RINGTRAIN_SPEC_PATH"] = os.path.join(spec_dir, os.path.basename(env["RINGTRAIN_SPEC_PATH"]))
        for var in ("RINGTRAIN_BIND", "RINGTRAIN_STATUS_BIND"):
            if var in env:
                env[var] = env[var].replace("tcp://*:", f"tcp://{ip}:")
        if "RINGTRAIN_PS_ENDPOINTS" in env:
            # <job>-ps-<i>.<job>-ps.<ns>.svc -> that pod's address (the cluster DNS's part)
            env["RINGTRAIN_PS_ENDPOINTS"] = re.sub(
                r"tcp://[a-z0-9-]+-ps-(\d+)\.[a-z0-9.-]+:",
                lambda m: f"tcp://127.0.{ROLE_NET['ps']}.{int(m.group(1)) + 1}:",
                env["RINGTRAIN_PS_ENDPOINTS"])
        term = os.path.join(self.a.workdir, f"{ns}-{name}-{meta['uid'][:8]}.termination")
        env["RINGTRAIN_TERMINATION_LOG"] = term
        log = open(os.path.join(self.a.workdir, f"{ns}-{name}.log"), "ab")
        p = subprocess.Popen([self.a.runtime] + container.get("args", []), env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[meta["uid"]] = (p, ns, name, ip, term)
        set_status(self.base, ns, name, "Running", ip, ready=True)
        print(f"kubelet: started {ns}/{name} at {ip} (pid {p.pid})", flush=True)

    def reap(self, uid):
        p, ns, name, ip, term = self.procs.pop(uid)
        code = p.wait()
        if code < 0:
            code = 128 - code  # killed by a signal, as a container runtime reports it
        message = ""
        if os.path.exists(term):
            with open(term) as f:
                message = f.read().strip()
        set_status(self.base, ns, name, "Succeeded" if code == 0 else "Failed", ip, code, message)
        self.done.add(uid)
        print(f"kubelet: {ns}/{name} exited {code}", flush=True)

    def stop(self, uid, grace=10.0):
        p = self.procs.pop(uid)[0]
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()

    def sync(self):
        pods = json.loads(kubectl(["-n", self.a.namespace, "get", "pods", "-l",
                                   "ringtrain.io/job-name", "-o", "json"], self.base))["items"]
        seen = set()
        for pod in pods:
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            deleting = pod["metadata"].get("deletionTimestamp")
            if uid in self.procs:
                if deleting:
                    self.stop(uid)
                elif self.procs[uid][0].poll() is not None:
                    self.reap(uid)
            elif not deleting and uid not in self.done and \
                    pod.get("status", {}).get("phase", "Pending") == "Pending":
                self.start(pod)
        for uid in [u for u in self.procs if u not in seen]:
            self.stop(uid)  # the pod is gone

    def run(self):
        deadline = time.time() + self.a.timeout
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        try:
            while time.time() < deadline and not stopping:
                try:
                    self.sync()
                except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
                    print(f"kubelet: {e}", file=sys.stderr, flush=True)
                time.sleep(0.2)
        finally:
            for uid in list(self.procs):
                self.stop(uid, grace=2.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    Kubelet(ap.parse_args()).run()


if __name__ == "__main__":
    main()
