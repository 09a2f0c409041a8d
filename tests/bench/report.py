#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turns the console log of a `make bench` guest into latest.json,
latest.md and the data files plot.gp draws.

Cost per send is compared within each round: a configuration's median of
its repetitions against the baseline's of the same round, then the median
over rounds of those differences and ratios. Host noise that lasts a round
then moves both sides alike. With --pair A B it also gives, round by round,
B's ratio minus A's: an A/B of two configurations (two builds of the module
in a `tests/bench/run --fine --old KO` run), with the share of rounds in which
B was lower.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import sys

CONFIG_LABELS = {
    "baseline": "no probe (baseline)",
    "bare": "bare counting kretprobe",
    "msgtap-e0": "msgtap early=0, no listener",
    "msgtap-e1": "msgtap early=1, no listener",
    "nlprobe-e1": "msgtap early=1 + msgtap-nlprobe --read (libnl test listener)",
    "msgtapd-stopped-e1": "msgtap early=1 + msgtapd stopped (records delivered, not read)",
    "msgtapd-e0": "msgtap early=0 + msgtapd",
    "msgtapd-e1": "msgtap early=1 + msgtapd (default)",
    "old-e1": "the --old msgtap.ko early=1, no listener",
    "msgtapd-old-e1": "the --old msgtap.ko early=1 + msgtapd",
    "syscall-events": "syscall trace events (enter+exit)",
    "syscall-events-read": "syscall trace events + a trace_pipe reader",
    "kprobe-events": "kprobe_events on do_msgsnd (entry+return)",
}
WORKLOADS = {
    "pair": "msgsnd+msgrcv pair, one process (ns per pair)",
    "loop": "msgsnd to a queue a receiver drains (ns per msgsnd)",
}


def parse(path):
    info, cost, kv, snaps = {}, [], [], {}
    done = False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("BENCH-INFO "):
                _, key, *rest = line.split(" ", 2)
                info[key] = rest[0] if rest else ""
            elif line.startswith("BENCH-COST "):
                w = line.split()
                cost.append({"round": int(w[1]), "config": w[2], "workload": w[3],
                             "ns": [float(x) for x in w[4:]]})
            elif line.startswith("BENCH-KV "):
                w = line.split()
                row = {"section": w[1]}
                for item in w[2:]:
                    k, _, v = item.partition("=")
                    try:
                        row[k] = int(v)
                    except ValueError:
                        try:
                            row[k] = float(v)
                        except ValueError:
                            row[k] = v
                kv.append(row)
            elif line.startswith("BENCH-JSON "):
                _, tag, text = line.split(" ", 2)
                try:
                    snaps[tag] = json.loads(text)
                except json.JSONDecodeError as e:
                    print(f"report: snapshot {tag} is not JSON: {e}", file=sys.stderr)
            elif line == "BENCH-END":
                done = True
    return info, cost, kv, snaps, done


def per_round(cost):
    """Per workload, configuration and round: the median ns of its
    repetitions."""
    by = {}
    for c in cost:
        by.setdefault(c["workload"], {}).setdefault(c["config"], {})[c["round"]] = \
            statistics.median(c["ns"])
    return by


def cost_summary(by):
    """Per workload and configuration: the median ns, and the per-round
    paired difference and ratio against the baseline."""
    out = {}
    for w, configs in by.items():
        base = configs.get("baseline", {})
        res = {}
        for cfg, rounds in configs.items():
            vals = list(rounds.values())
            diffs = [rounds[r] - base[r] for r in rounds if r in base]
            ratios = [rounds[r] / base[r] for r in rounds if r in base]
            res[cfg] = {
                "label": CONFIG_LABELS.get(cfg, cfg),
                "rounds": len(vals),
                "median_ns": round(statistics.median(vals), 1),
                "min_ns": round(min(vals), 1),
                "max_ns": round(max(vals), 1),
                "added_ns": round(statistics.median(diffs), 1) if diffs else None,
                "ratio": round(statistics.median(ratios), 3) if ratios else None,
                "per_round_ns": {str(r): round(v, 1) for r, v in sorted(rounds.items())},
            }
        bare = res.get("bare", {}).get("added_ns")
        for cfg, r in res.items():
            if bare and r["added_ns"] is not None:
                r["added_minus_bare_ns"] = round(r["added_ns"] - bare, 1)
                r["added_over_bare"] = round(r["added_ns"] / bare, 2)
        out[w] = res
    return out


def pair_summary(by, a, b):
    """Per workload: B's ratio to its round's baseline minus A's, over the
    rounds that ran both."""
    out = {}
    for w in WORKLOADS:
        configs = by.get(w, {})
        base, ra, rb = (configs.get(c, {}) for c in ("baseline", a, b))
        diffs = [rb[r] / base[r] - ra[r] / base[r] for r in sorted(base) if r in ra and r in rb]
        if diffs:
            out[w] = {"a": a, "b": b, "rounds": len(diffs),
                      "median_diff": round(statistics.median(diffs), 3),
                      "mean_diff": round(statistics.mean(diffs), 3),
                      "b_lower_rounds": sum(d < 0 for d in diffs)}
    return out


def snap_numbers(s):
    k, d, loss = s.get("kernel", {}), s.get("daemon", {}), s.get("loss", {})
    out = {
        "probe_hits": k.get("probe_hits"),
        "events_queued": k.get("events_queued"),
        "events_delivered_kernel": k.get("events_delivered"),
        "batches_delivered": k.get("batches_delivered"),
        "delivery_retries": k.get("delivery_retries"),
        "events_received": d.get("events_received"),
        "loss_total": loss.get("total"),
        "loss_kernel_ring_full": loss.get("kernel_ring_full"),
        "loss_kernel_undeliverable": loss.get("kernel_undeliverable"),
        "loss_probe_missed": loss.get("probe_missed"),
        "loss_seq_gaps": loss.get("seq_gaps"),
        "socket_overruns": d.get("socket_overruns"),
        "socket_drops": d.get("socket_drops"),
        "nothing_lost": loss.get("nothing_lost"),
        "ring_size": k.get("ring_size"),
        "nr_cpus": k.get("nr_cpus"),
        "flush_ms": k.get("flush_ms"),
        "probes": [{"symbol": p.get("symbol"), "nmissed": p.get("nmissed"),
                    "maxactive": p.get("maxactive")} for p in k.get("probes", [])],
    }
    # Modules since da6a25a say how many namespace records each CPU keeps.
    if "ns_ring_size" in k:
        out["ns_ring_size"] = k["ns_ring_size"]
    return out


def untraced_call(r):
    """A flood's untraced msgsnd (ns per call, comma-separated, measured around
    it): replaces untraced_ns with untraced_ns_per_call, their median, and
    returns them, or None without them."""
    raw = r.pop("untraced_ns", None)
    if raw is None:
        return None
    vals = [float(x) for x in str(raw).split(",") if x]
    r["untraced_ns_per_call"] = round(statistics.median(vals), 1)
    return vals


def busy_share(r, daemon_ticks):
    """With the guest's busy ticks over a flood: msgtapd's share of them, and its
    CPU per event over what the rest of the guest spent per call (the senders'
    calls with their capture and delivery) in the same seconds. Both are ratios
    of work done side by side, so the host's speed, which drifts from one
    minute to the next under TCG, cancels out."""
    busy, calls = r.get("guest_busy_ticks"), r.get("calls")
    if not busy or not calls:
        return
    r["msgtapd_share_of_guest_busy"] = round(daemon_ticks / busy, 3)
    rest = busy - daemon_ticks
    if rest > 0 and daemon_ticks:
        r["rest_of_guest_ns_per_call"] = round(rest / r.get("clk_tck", 100) / calls * 1e9, 1)
        if r.get("events_received"):
            per_event = daemon_ticks / r.get("clk_tck", 100) / r["events_received"] * 1e9
            r["msgtapd_cpu_per_event_over_rest_per_call"] = round(
                per_event / r["rest_of_guest_ns_per_call"], 3)


def daemon_rows(kv, snaps, section, tagkey, record_bytes, ns_record_bytes):
    rows = []
    for row in kv:
        if row["section"] != section:
            continue
        tag = f"{section}-{row[tagkey]}" if tagkey else section
        r = dict(row)
        del r["section"]
        if tag in snaps:
            r.update(snap_numbers(snaps[tag]))
        events = r.get("events_received") or 0
        cpu_s = r.get("cpu_ticks", 0) / r.get("clk_tck", 100)
        r["msgtapd_cpu_s"] = round(cpu_s, 2)
        r["msgtapd_cpu_s_per_million_events"] = round(cpu_s / events * 1e6, 2) if events else None
        r["msgtapd_cpu_ns_per_event"] = round(cpu_s / events * 1e9, 1) if events else None
        if r.get("seconds"):
            r["events_per_s"] = round(events / r["seconds"])
        # Flood steps: an untraced msgsnd measured just before and after.
        vals = untraced_call(r)
        if vals is not None:
            r["untraced_ns_per_call_runs"] = vals
            if r.get("msgtapd_cpu_ns_per_event"):
                r["msgtapd_cpu_per_event_over_untraced_call"] = round(
                    r["msgtapd_cpu_ns_per_event"] / r["untraced_ns_per_call"], 3)
        busy_share(r, r.get("cpu_ticks", 0))
        # Scale steps: half the sends went to fresh queues, half to the
        # same queues again, each half with msgtapd's ticks of its own.
        half = r.get("sends", 0) // 2
        for key in ("fresh", "again"):
            if f"{key}_ticks" in r and half:
                r[f"msgtapd_cpu_ns_per_event_{key}"] = round(
                    r[f"{key}_ticks"] / r.get("clk_tck", 100) / half * 1e9, 1)
        if r.get("ring_size") and r.get("nr_cpus") and record_bytes:
            r["ring_bytes"] = r["ring_size"] * r["nr_cpus"] * record_bytes
            # The namespace rings too, from modules and runs that say their size.
            if r.get("ns_ring_size") and ns_record_bytes:
                r["ring_bytes"] += r["ns_ring_size"] * r["nr_cpus"] * ns_record_bytes
        rows.append(r)
    return rows


def ab_rows(kv, snaps):
    """The floods of bench.ab: msgtapd's CPU per event of each build, round by
    round, split into user and system time and event loop and other threads."""
    rows = []
    for row in kv:
        if row["section"] != "ab":
            continue
        r = dict(row)
        del r["section"]
        snap = snaps.get(f"ab-{r['variant']}-{r['senders']}-{r['round']}")
        if snap:
            r.update(snap_numbers(snap))
        events = r.get("events_received") or 0
        tck = r.get("clk_tck", 100)
        ut, st = r.get("utime", 0), r.get("stime", 0)
        lut, lst = r.get("loop_utime", 0), r.get("loop_stime", 0)
        parts = {"all": ut + st, "user": ut, "system": st, "loop": lut + lst,
                 "loop_user": lut, "loop_system": lst,
                 # The process's and the thread's ticks are sampled apart and
                 # can differ by one the other way: that is none, not less.
                 "other_threads": max(0, ut + st - lut - lst)}
        for k, ticks in parts.items():
            r[f"ns_per_event_{k}"] = round(ticks / tck / events * 1e9, 1) if events else None
        untraced_call(r)
        busy_share(r, ut + st)
        rows.append(r)
    return rows


def ab_summary(rows):
    """Per build and sender count, the median over rounds of each figure."""
    keys = ["ns_per_event_all", "ns_per_event_user", "ns_per_event_system",
            "ns_per_event_loop", "ns_per_event_other_threads", "untraced_ns_per_call",
            "msgtapd_share_of_guest_busy", "rest_of_guest_ns_per_call",
            "msgtapd_cpu_per_event_over_rest_per_call"]
    out = {}
    for r in rows:
        out.setdefault((r["variant"], r["senders"]), []).append(r)
    summary = []
    for (v, n), rs in out.items():
        item = {"variant": v, "senders": n, "rounds": len(rs),
                "events_per_s": round(statistics.median(
                    (x.get("events_received") or 0) / x["seconds"] for x in rs if x.get("seconds"))),
                "exact_all": all(x.get("exact") == 1 for x in rs),
                "lost": sum(x.get("loss_total") or 0 for x in rs)}
        for k in keys:
            vals = [x[k] for x in rs if x.get(k) is not None]
            item[k] = round(statistics.median(vals), 3 if k.startswith("msgtapd_") else 1) if vals else None
        summary.append(item)
    return summary


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def scrape(r):
    """A scale step's /metrics scrape: msgtapd CPU seconds and megabytes."""
    if "scrape_ticks" not in r:
        return "–"
    peak = f", peak {r['scrape_vmhwm_kb'] / 1000:.0f} MB" if r.get("scrape_vmhwm_kb") else ""
    return (f"{r['scrape_ticks'] / r.get('clk_tck', 100):.2f} s, "
            f"{r.get('scrape_bytes', 0) / 1e6:.1f} MB{peak}")


def split(r):
    """A scale step's msgtapd CPU per event, fresh queues and again, in µs."""
    f, a = r.get("msgtapd_cpu_ns_per_event_fresh"), r.get("msgtapd_cpu_ns_per_event_again")
    if f is None or a is None:
        return "–"
    return f"{f / 1000:.2f}, {a / 1000:.2f}"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--elapsed", type=int, default=0)
    ap.add_argument("--host-cpu", default="")
    ap.add_argument("--host-cpus", default="")
    ap.add_argument("--qemu", default="")
    ap.add_argument("--accel", default="")
    ap.add_argument("--receive-path", default="",
                    help="tests/bench/host/ir-per-event.sh output: msgtapd's receive path on the host")
    ap.add_argument("--icount", action="store_true",
                    help="the guest ran under qemu -icount shift=0: its ns are instructions")
    ap.add_argument("--pair", nargs=2, metavar=("A", "B"),
                    help="also B's ratio minus A's, round by round (e.g. old-e1 msgtap-e1)")
    a = ap.parse_args()

    info, cost, kv, snaps, done = parse(a.console)
    record_bytes = int(info.get("record_bytes", "0") or 0)
    ns_record_bytes = int(info.get("ns_record_bytes", "0") or 0)
    by_round = per_round(cost)
    costs = cost_summary(by_round)
    pairs = pair_summary(by_round, *a.pair) if a.pair else {}
    if a.pair and not pairs:
        print(f"report: no round ran both {a.pair[0]} and {a.pair[1]} with the baseline",
              file=sys.stderr)
    tput = daemon_rows(kv, snaps, "tput", "senders", record_bytes, ns_record_bytes)
    scale = daemon_rows(kv, snaps, "scale", "queues", record_bytes, ns_record_bytes)
    blocked = daemon_rows(kv, snaps, "blocked", None, record_bytes, ns_record_bytes)
    ab = ab_rows(kv, snaps)
    ab_sum = ab_summary(ab)
    ncpus = int(info.get("ncpus", "2") or 2)

    targets = {}
    pair = costs.get("pair", {})
    loop = costs.get("loop", {})
    for cfg in ("msgtapd-e1", "msgtapd-e0"):
        for w, res in (("pair", pair), ("loop", loop)):
            if cfg in res and "bare" in res and "syscall-events" in res:
                add, bare, sysev = (res[cfg]["added_ns"], res["bare"]["added_ns"],
                                    res["syscall-events"]["added_ns"])
                targets[f"{cfg}_{w}_vs_bare"] = {
                    "target": "added <= 1.25 x bare kretprobe's added",
                    "added_ns": add, "bare_added_ns": bare,
                    "factor": round(add / bare, 2) if bare else None,
                    "met": bool(bare) and add <= 1.25 * bare}
                targets[f"{cfg}_{w}_vs_syscall_events"] = {
                    "target": "added <= 0.5 x syscall trace events' added",
                    "added_ns": add, "syscall_events_added_ns": sysev,
                    "factor": round(add / sysev, 2) if sysev else None,
                    "met": bool(sysev) and add <= 0.5 * sysev}
    at_ncpus = [r for r in tput if r.get("senders") == ncpus]
    if at_ncpus:
        r = at_ncpus[0]
        targets["zero_loss_at_ncpus_senders"] = {
            "target": f"zero events lost with {ncpus} flat-out senders for 30 s at defaults",
            "senders": ncpus, "seconds": r.get("seconds"), "loss_total": r.get("loss_total"),
            "exact": r.get("exact"),
            "met": r.get("loss_total") == 0 and r.get("exact") == 1}
        # A sender's per-call time: one msgsnd of the loop workload without
        # any probe, measured just before and after the flood (older runs:
        # in the cost step, minutes away); the traced time of the cost step
        # is given too, for the lenient reading.
        send_ns = r.get("untraced_ns_per_call") or loop.get("baseline", {}).get("median_ns")
        if send_ns and r.get("msgtapd_cpu_ns_per_event"):
            traced = loop.get("msgtapd-e1", {}).get("median_ns")
            cost_step = loop.get("baseline", {}).get("median_ns")
            targets["msgtapd_cpu_per_event"] = {
                "target": "msgtapd CPU per event <= 1/5 of a sender's per-call time (untraced msgsnd)",
                "msgtapd_cpu_ns_per_event": r["msgtapd_cpu_ns_per_event"],
                "sender_ns_per_call": send_ns,
                "measured": "around the flood" if r.get("untraced_ns_per_call") else "in the cost step",
                "fraction": round(r["msgtapd_cpu_ns_per_event"] / send_ns, 3),
                "fraction_of_cost_step_call": round(r["msgtapd_cpu_ns_per_event"] / cost_step, 3) if cost_step else None,
                "fraction_of_traced_call": round(r["msgtapd_cpu_ns_per_event"] / traced, 3) if traced else None,
                **({"fraction_of_rest_of_guest_per_call": r["msgtapd_cpu_per_event_over_rest_per_call"]}
                   if "msgtapd_cpu_per_event_over_rest_per_call" in r else {}),
                "met": r["msgtapd_cpu_ns_per_event"] <= send_ns / 5}

    # "CASE N instructions per record (M records)" per line.
    receive_path = {}
    if a.receive_path and os.path.exists(a.receive_path):
        with open(a.receive_path) as f:
            for line in f:
                m = re.match(r"receive/(\S+?)(?:/iterations:\d+)?\s+([\d.]+) instructions per record", line)
                if m:
                    receive_path[m.group(1)] = float(m.group(2))

    result = {
        "schema": 1,
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": a.commit,
        "complete": done,
        "elapsed_s": a.elapsed,
        "host": {"cpu": a.host_cpu, "cpus": a.host_cpus, "qemu": a.qemu, "accel": a.accel},
        "guest": info,
        "workloads": WORKLOADS,
        "cost_per_send": costs,
        "pairs": pairs,
        "throughput": tput,
        "scale": scale + blocked,
        "targets": targets,
        "receive_path_instructions_per_record": receive_path,
    }
    if a.icount:
        # Under -icount shift=0 every *_ns counts guest instructions.
        result["unit"] = "instruction"
    if ab:
        result["ab_floods"] = {"rounds": ab, "summary": ab_sum}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    # Data for plot.gp: one row per configuration, and one per sender count.
    order = [c for c in CONFIG_LABELS if c in pair or c in loop]
    order += sorted({c for res in costs.values() for c in res} - set(order))
    with open(os.path.join(a.out, "cost.dat"), "w") as f:
        f.write("# config pair_ratio loop_ratio pair_added_ns loop_added_ns\n")
        for c in order:
            p, l = pair.get(c, {}), loop.get(c, {})
            f.write(f'"{c}" {p.get("ratio") or 0} {l.get("ratio") or 0} '
                    f'{p.get("added_ns") or 0} {l.get("added_ns") or 0}\n')
    with open(os.path.join(a.out, "tput.dat"), "w") as f:
        f.write("# senders events_per_s lost cpu_s_per_million\n")
        for r in tput:
            f.write(f'{r["senders"]} {r.get("events_per_s", 0)} {r.get("loss_total") or 0} '
                    f'{r.get("msgtapd_cpu_s_per_million_events") or 0}\n')

    md = []
    md.append(f"Run of commit `{a.commit}`, {result['generated']}; the whole `make bench` "
              f"guest ran {a.elapsed} s{'' if done else ' (INCOMPLETE: the guest did not finish)'}.")
    md.append("")
    md.append(f"Guest: Linux {info.get('kernel', '?')}, {info.get('ncpus', '?')} vCPUs "
              f"({info.get('cpu', '?')}), {int(info.get('memory_kb', '0') or 0) // 1024} MiB, "
              f"clocksource {info.get('clocksource', '?')}; "
              f"{a.qemu}, `-accel {a.accel}`. Host: {a.host_cpu}, {a.host_cpus} CPUs. "
              f"Parameters: {info.get('params', '')}.")
    md.append("")
    unit = "ns"
    if a.icount:
        unit = "instructions"
        md.append("Counted, not timed: under `-icount shift=0` the guest's clock advances one ns "
                  "per instruction executed, so every \"ns\" of this run is a guest instruction, "
                  "the same on any host. A string instruction (`rep movs`, `rep stos`) counts once "
                  "per element. With one vCPU, the delivery work and msgtapd are counted with the "
                  "calls that cause them.")
        md.append("")
    for w in ("pair", "loop"):
        res = costs.get(w)
        if not res:
            continue
        md.append(f"### Cost per send: {WORKLOADS[w].replace('(ns ', f'({unit} ')}")
        md.append("")
        md.append(f"| configuration | median {unit} | range over rounds | × baseline | added {unit} "
                  "| added − bare | added ÷ bare |")
        md.append("|---|---:|---:|---:|---:|---:|---:|")
        for c in order:
            if c not in res:
                continue
            r = res[c]
            md.append(f"| {r['label']} | {fmt(r['median_ns'])} | {fmt(r['min_ns'])}–{fmt(r['max_ns'])} "
                      f"| {fmt(r['ratio'], 2)} | {fmt(r['added_ns'])} "
                      f"| {fmt(r.get('added_minus_bare_ns'))} | {fmt(r.get('added_over_bare'), 2)} |")
        md.append("")
        if w in pairs:
            p = pairs[w]
            md.append(f"{p['b']} − {p['a']}, round by round (× baseline): median "
                      f"{p['median_diff']:+.3f}, mean {p['mean_diff']:+.3f}; {p['b']} lower in "
                      f"{p['b_lower_rounds']} of {p['rounds']} rounds.")
            md.append("")
    if tput:
        md.append("### Throughput and loss: flat-out senders (msgsnd+msgrcv on own queue), msgtapd running, defaults")
        md.append("")
        md.append("| senders | seconds | events delivered | events/s | exact vs truth | lost: ring full | lost: undeliverable | lost: probe nmissed | lost: seq gaps | socket overruns (retried) | msgtapd CPU s / M events | untraced msgsnd ns (around the flood) | msgtapd CPU per event ÷ untraced msgsnd | msgtapd VmHWM kB | module bytes | ring bytes |")
        md.append("|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in tput:
            md.append(f"| {r['senders']} | {fmt(r.get('seconds'))} | {fmt(r.get('events_received'))} "
                      f"| {fmt(r.get('events_per_s'))} | {'yes' if r.get('exact') == 1 else 'NO'} "
                      f"| {fmt(r.get('loss_kernel_ring_full'))} | {fmt(r.get('loss_kernel_undeliverable'))} "
                      f"| {fmt(r.get('loss_probe_missed'))} | {fmt(r.get('loss_seq_gaps'))} "
                      f"| {fmt(r.get('socket_overruns'))} | {fmt(r.get('msgtapd_cpu_s_per_million_events'), 2)} "
                      f"| {fmt(r.get('untraced_ns_per_call'))} "
                      f"| {fmt(r.get('msgtapd_cpu_per_event_over_untraced_call'), 3)} "
                      f"| {fmt(r.get('vmhwm_kb'))} | {fmt(r.get('module_bytes'))} | {fmt(r.get('ring_bytes'))} |")
        md.append("")
        same = [r for r in tput if "msgtapd_cpu_per_event_over_rest_per_call" in r]
        if same:
            md.append("Against the guest's busy time in the same seconds (senders, probes, delivery and "
                      "msgtapd side by side, so the host's drift cancels): " + "; ".join(
                          f"{r['senders']} sender(s): msgtapd {fmt(r['msgtapd_share_of_guest_busy'], 3)} "
                          f"of it, the rest {fmt(r['rest_of_guest_ns_per_call'])} ns per call, msgtapd "
                          f"per event ÷ that {fmt(r['msgtapd_cpu_per_event_over_rest_per_call'], 3)}"
                          for r in same) + ".")
            md.append("")
    if ab_sum:
        md.append("### Floods, builds alternating (`tests/bench/run --ab`): msgtapd's CPU per event")
        md.append("")
        md.append("Medians over rounds of msgtapd's ns of CPU per event (10 ms ticks over each "
                  "flood), split into user and system time and into its event loop (first thread) "
                  "and its other threads (to a tick); the untraced msgsnd was measured just before "
                  "each flood. "
                  "The last three columns divide by the guest's busy time over the same seconds: "
                  "msgtapd's share of it, what the rest of the guest spent per call (the senders' "
                  "calls with their capture and delivery), and msgtapd's CPU per event over that.")
        md.append("")
        md.append("| build | senders | rounds | events/s | exact, lost | all | user | system | event loop | other threads | untraced msgsnd ns | msgtapd share of busy | rest of guest ns per call | msgtapd per event ÷ rest per call |")
        md.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sorted(ab_sum, key=lambda x: (x["senders"], x["variant"])):
            md.append(f"| {r['variant']} | {r['senders']} | {r['rounds']} | {fmt(r['events_per_s'])} "
                      f"| {'yes' if r['exact_all'] else 'NO'}, {fmt(r['lost'])} "
                      f"| {fmt(r['ns_per_event_all'])} | {fmt(r['ns_per_event_user'])} "
                      f"| {fmt(r['ns_per_event_system'])} | {fmt(r['ns_per_event_loop'])} "
                      f"| {fmt(r['ns_per_event_other_threads'])} | {fmt(r['untraced_ns_per_call'])} "
                      f"| {fmt(r['msgtapd_share_of_guest_busy'], 3)} | {fmt(r['rest_of_guest_ns_per_call'])} "
                      f"| {fmt(r['msgtapd_cpu_per_event_over_rest_per_call'], 3)} |")
        md.append("")
    if scale or blocked:
        md.append("### Scale: a fresh msgtapd per step")
        md.append("")
        md.append("CPU is msgtapd's utime+stime (10 ms ticks) while the step's sends ran: "
                  "first to fresh queues, then as many again to the same queues, each half "
                  "with its own figure (a queue's first records also pay for creating its "
                  "statistics). The snapshot `msgtapctl stats --json` then asked for (all queues "
                  "as JSON) and one scrape of `/metrics` are counted separately. The blocked "
                  "step's 1,000-odd events are too few for a per-event CPU figure: its CPU is "
                  "the daemon's idle time over the step.")
        md.append("")
        md.append("| step | events | exact vs truth | lost | msgtapd CPU s / M events | µs per event: fresh queues, again | snapshot CPU s | /metrics scrape: msgtapd CPU, size, peak RSS after | msgtapd VmHWM kB (before the scrape) | VmRSS kB |")
        md.append("|---|---:|:-:|---:|---:|---:|---:|---:|---:|---:|")
        for r in scale:
            md.append(f"| {fmt(r['queues'])} queue(s) | {fmt(r.get('events_received'))} "
                      f"| {'yes' if r.get('exact') == 1 else 'NO'} | {fmt(r.get('loss_total'))} "
                      f"| {fmt(r.get('msgtapd_cpu_s_per_million_events'), 2)} "
                      f"| {split(r)} "
                      f"| {fmt(r.get('snapshot_ticks', 0) / 100, 2)} "
                      f"| {scrape(r)} | {fmt(r.get('vmhwm_kb'))} | {fmt(r.get('vmrss_kb'))} |")
        for r in blocked:
            md.append(f"| {fmt(r['senders'])} blocked senders | {fmt(r.get('events_received'))} "
                      f"| {'yes' if r.get('exact') == 1 else 'NO'} | {fmt(r.get('loss_total'))} "
                      f"| ({fmt(r.get('msgtapd_cpu_s'), 2)} s in all) | – | – | – | {fmt(r.get('vmhwm_kb'))} | {fmt(r.get('vmrss_kb'))} |")
        md.append("")
    if receive_path:
        md.append("### msgtapd's receive path on the host (instructions per record)")
        md.append("")
        md.append("`tests/bench/host/ir-per-event.sh`: callgrind's count for parsing, the sequence "
                  "check and aggregation of one record, on recorded EVENTS batches (exact; no guest).")
        md.append("")
        md.append("| case | instructions per record |")
        md.append("|---|---:|")
        for name, ir in receive_path.items():
            md.append(f"| {name.replace('_', ' ')} | {fmt(ir)} |")
        md.append("")
    if targets:
        md.append("### Targets")
        md.append("")
        md.append("| target | measured | verdict |")
        md.append("|---|---|:-:|")
        for name, t in targets.items():
            meas = ", ".join(f"{k} {v}" for k, v in t.items() if k not in ("target", "met"))
            md.append(f"| {name}: {t['target']} | {meas} | {verdict(t['met'])} |")
        md.append("")
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
