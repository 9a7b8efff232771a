#!/usr/bin/env python3
"""Markdown tables from a benches/load/run.sh results folder: usage summarize.py DIR."""
import json
import os
import sys

d = sys.argv[1]


def load(name):
    p = os.path.join(d, name)
    return json.load(open(p)) if os.path.exists(p) else None


env = load("env.json")
targets = [t for t in ("direct", "nginx", "sovgate") if load(f"{t}-idle-start.json")]
bodies = [b for b in ("peers-1.26k", "clean-2k", "dirty-2k")
          if any(load(f"{t}-{b}-max.json") for t in targets)]

print(f"{env['date']}, {env['nproc']} CPUs ({env['cpu']}), target on CPU {env['gw_cpus']}, "
      f"stub + wrk {env['wrk']} on CPU {env['rig_cpus']}, {env['dur_s']} s per run\n")


def rps(r):
    return r["requests"] / (r["duration_us"] / 1e6)


def cpu_us(t, b, r):
    c = load(f"{t}-{b}-cpu.json")
    return (c["after"]["cpu_s"] - c["before"]["cpu_s"]) * 1e6 / max(r["requests"], 1)


print(f"Closed loop, {env['conc']} connections:\n")
print("| target | body | req/s | vs nginx | CPU µs/req | vs nginx | errors |")
print("|---|---|---:|---:|---:|---:|---:|")
for b in bodies:
    ng = load(f"nginx-{b}-max.json")
    for t in targets:
        r = load(f"{t}-{b}-max.json")
        if not r:
            continue
        ratio = f"{rps(r) / rps(ng):.2f}x" if ng else "-"
        cpu = cpu_us(t, b, r)
        cratio = f"{cpu / cpu_us('nginx', b, ng):.2f}x" if ng and t != "direct" else "-"
        print(f"| {t} | {b} | {rps(r):,.0f} | {ratio} | {cpu:.1f} | {cratio} | "
              f"{r['socket_errors'] + r['non2xx']} |")

print(f"\nPaced, {env['paced_conc']} connections each waiting {env['paced_delay_ms']} ms "
      f"between requests (latency in ms; added = target minus direct, same body):\n")
print("| target | body | req/s | p50 | p90 | p99 | added p50 | added p99 |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for b in bodies:
    di = load(f"direct-{b}-paced.json")
    for t in targets:
        r = load(f"{t}-{b}-paced.json")
        if not r:
            continue
        add50 = f"{(r['p50_us'] - di['p50_us']) / 1e3:.3f}" if di and t != "direct" else "-"
        add99 = f"{(r['p99_us'] - di['p99_us']) / 1e3:.3f}" if di and t != "direct" else "-"
        print(f"| {t} | {b} | {rps(r):,.0f} | {r['p50_us'] / 1e3:.3f} | {r['p90_us'] / 1e3:.3f} | "
              f"{r['p99_us'] / 1e3:.3f} | {add50} | {add99} |")

print("\nRSS of the target's process tree (MiB):\n")
print("| target | idle after start | idle after the runs |")
print("|---|---:|---:|")
for t in targets:
    s, e = load(f"{t}-idle-start.json"), load(f"{t}-idle-end.json")
    print(f"| {t} | {s['rss_kib'] / 1024:.1f} | {e['rss_kib'] / 1024:.1f} |" if e else
          f"| {t} | {s['rss_kib'] / 1024:.1f} | - |")
