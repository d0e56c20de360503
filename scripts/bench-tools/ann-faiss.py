"""faiss as a peer of `recall bench vector`: one index per process, single-threaded search.
   python3 ann-faiss.py <dataDir> <spec JSON>
spec: {"label", "build": {"type": "hnsw", "m", "efConstruction"} | {"type": "ivf", "nlist"}, "search": [{"ef"} | {"nprobe"}], "runs",
       "saveTo"?: file, "loadFrom"?: file}
Prints one JSON line per search setting, as ann-run.mjs does (recall@10 by the ann-benchmarks rule,
QPS per CPU-second of this process, build CPU seconds with one thread, resident MB the index added
after the build and after the searches so far, the latter split into anonymous and file-backed MB).
With saveTo it builds, saves the index there and prints one line of build figures (no searches); with
loadFrom it reads that saved index instead of building (no build figures)."""
import json, os, sys, time


def openblas_core():
    """The OpenBLAS kernel set this CPU can run. The OpenBLAS inside the faiss-cpu wheel detects the
    core by CPU model, and on a VM that hides the model ("Intel(R) Xeon(R) Processor") it fell back to
    Prescott (SSE3): IVF training then took 34 CPU-s instead of 7.6 s with SkylakeX."""
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


if openblas_core() and "OPENBLAS_CORETYPE" not in os.environ:
    os.environ["OPENBLAS_CORETYPE"] = openblas_core()
import numpy as np  # noqa: E402 (after OPENBLAS_CORETYPE: OpenBLAS reads it when it loads)
import faiss  # noqa: E402

data_dir, spec = sys.argv[1], json.loads(sys.argv[2])
meta = json.load(open(os.path.join(data_dir, "meta.json")))
n, dim, nq, k = meta["n"], meta["dim"], meta["nq"], meta["k"]
base = np.fromfile(os.path.join(data_dir, "base.f32"), dtype=np.float32).reshape(n, dim)
queries = np.fromfile(os.path.join(data_dir, "queries.f32"), dtype=np.float32).reshape(nq, dim)
gt = np.fromfile(os.path.join(data_dir, "gt.i32"), dtype=np.int32).reshape(nq, k)
faiss.omp_set_num_threads(1)


def rss_mb():
    """Resident set size of this process in MB (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


def rss_kinds_mb():
    """Anonymous and file-backed resident MB (/proc/self/status RssAnon, RssFile)."""
    kinds = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                kinds[line.split(":")[0]] = int(line.split()[1]) / 1024
    return kinds["RssAnon"], kinds["RssFile"]


b = spec["build"]
rss0 = rss_mb()
anon0, file0 = rss_kinds_mb()
t0 = time.process_time()
w0 = time.perf_counter()
if spec.get("loadFrom"):
    ix = faiss.read_index(spec["loadFrom"])
elif b["type"] == "hnsw":
    ix = faiss.IndexHNSWFlat(dim, b.get("m", 16))
    ix.hnsw.efConstruction = b.get("efConstruction", 200)
    ix.add(base)
else:
    quant = faiss.IndexFlatL2(dim)
    ix = faiss.IndexIVFFlat(quant, dim, b["nlist"])
    ix.train(base)
    ix.add(base)
build_cpu = time.process_time() - t0
build_wall = time.perf_counter() - w0
index_mb = round(rss_mb() - rss0, 1)
built = None if spec.get("loadFrom") else {"build_cpu_s": round(build_cpu, 2), "build_wall_s": round(build_wall, 2)}
if spec.get("saveTo"):
    faiss.write_index(ix, spec["saveTo"])
    print(json.dumps({"label": spec["label"], "engine": "faiss", **built, "index_mb": index_mb, "index_disk_mb": round(os.path.getsize(spec["saveTo"]) / 1048576, 1)}), flush=True)
    sys.exit(0)
limit = np.sqrt(((queries - base[gt[:, k - 1]]) ** 2).sum(axis=1)) + 1e-3
for s in spec["search"]:
    if "ef" in s:
        ix.hnsw.efSearch = s["ef"]
    if "nprobe" in s:
        ix.nprobe = s["nprobe"]
    best, ids = None, None
    for _ in range(spec.get("runs", 2)):
        c0 = time.process_time()
        _, got = ix.search(queries, k)
        c = time.process_time() - c0
        if best is None or c < best:
            best = c
        if ids is None:
            ids = got
    hit = 0
    for q in range(nq):
        row = [i for i in dict.fromkeys(ids[q].tolist()) if 0 <= i < n]
        d = np.sqrt(((base[row] - queries[q]) ** 2).sum(axis=1)) if row else np.array([])
        hit += int((d <= limit[q]).sum())
    print(json.dumps({"label": spec["label"], "engine": "faiss", "search": s, "recall": hit / (nq * k), "qps": nq / max(best, 1e-9), "build_cpu_s": built and built["build_cpu_s"], "build_wall_s": built and built["build_wall_s"], "index_mb": index_mb, "rss_after_search_mb": round(rss_mb() - rss0, 1), "anon_after_search_mb": round(rss_kinds_mb()[0] - anon0, 1), "file_after_search_mb": round(rss_kinds_mb()[1] - file0, 1)}), flush=True)
