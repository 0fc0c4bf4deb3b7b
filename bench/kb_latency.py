"""Knowledge engine latency and memory: per-query p50/p99 and RSS, demo KB and 10,000 articles.

    python bench/kb_latency.py [--articles 10000] [--queries 400]

Measures, on one core (ONNX runs single-threaded per query, as in the gateway):
- the demo KB (55 articles + 10 intents): build time, per-query p50/p99 over the queries-dev
  messages with the embedding cache cleared (every query pays its embedding), resident memory;
- a synthetic KB of --articles articles (generated titles/questions/bodies over outdoor-shop
  topics, products and situations): build time, per-query p50/p99, resident memory;
- cold start in a fresh subprocess: interpreter start -> model loaded -> demo engine built.
Targets: p50 <= 5 ms and p99 <= 20 ms at 10,000 articles, RSS <= 300 MB, demo build <= ~1.5 s.
Bounded: about 2-3 minutes (embedding the synthetic KB's ~40k texts dominates).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# As `onethread serve` runs (gateway/cli.py): set before numpy loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gateway.memory import release_free_memory, use_one_malloc_arena  # noqa: E402
from knowledge.answerer import Answerer  # noqa: E402
from knowledge.content import Article, KnowledgeBase, load_folder  # noqa: E402
from knowledge.embedder import Embedder  # noqa: E402
from knowledge.evaluate import load_queries  # noqa: E402

DEMO = ROOT / "knowledge" / "demo"

PRODUCTS = ["tent", "backpack", "rain jacket", "down jacket", "hiking boots", "trail runners",
            "sleeping bag", "sleeping pad", "camp stove", "headlamp", "trekking poles",
            "climbing harness", "climbing shoes", "helmet", "kayak", "paddle", "water filter",
            "cooler", "hammock", "fleece", "base layer", "gloves", "beanie", "daypack",
            "duffel bag", "bike rack", "snowshoes", "ski goggles", "gaiters", "compass",
            "binoculars", "camp chair", "lantern", "tarp", "bear canister", "dry bag",
            "first aid kit", "wool socks", "sun hoodie", "rain pants"]
TOPICS = [
    ("warranty", "What is the warranty on the {p}?", ["is my {p} covered by warranty",
     "the {p} broke after a month, is that covered", "warranty for {p}"]),
    ("care", "How do I clean and care for my {p}?", ["how to wash a {p}",
     "can I put the {p} in the washing machine", "{p} care instructions"]),
    ("repair", "Can you repair my {p}?", ["my {p} is damaged, do you fix it",
     "repair service for a {p}", "how much does fixing a {p} cost"]),
    ("sizing", "How do I choose the right size {p}?", ["what size {p} should I get",
     "{p} size chart", "the {p} runs small or large?"]),
    ("rental", "Can I rent a {p}?", ["do you rent out {p}s", "price to rent a {p} for a weekend",
     "{p} rental deposit"]),
    ("return", "Can I return a used {p}?", ["I used my {p} once, can I send it back",
     "return window for a {p}", "is the {p} returnable after use"]),
    ("stock", "When will the {p} be back in stock?", ["{p} sold out, when is the restock",
     "notify me when the {p} is available", "is the {p} on backorder"]),
    ("trade", "Can I trade in my old {p}?", ["trade-in value for a {p}",
     "do you buy back a used {p}", "store credit for my old {p}"]),
    ("ship", "Can a {p} ship to a PO box?", ["ship my {p} to a po box",
     "is the {p} too big for po box delivery", "{p} shipping restrictions"]),
    ("fit", "Can I try the {p} in a store?", ["which stores have the {p} on display",
     "try on the {p} before buying", "is the {p} in the Denver store"]),
]
SITUATIONS = ["", "for kids", "for winter", "for a thru-hike", "in the outlet", "from 2019",
              "bought as a gift", "bought online", "from the sale", "for a group",
              "in the ultralight line", "in the expedition line", "with a custom fit",
              "in the women's line", "in the men's line", "for dogs", "for travel",
              "for the beach", "in the youth line", "for alpine climbing", "for car camping",
              "for desert trips", "for rainy climates", "for backcountry skiing", "for festivals"]


def synthetic_kb(n: int, seed: int = 0) -> KnowledgeBase:
    """n distinct articles: topic x product x situation, each with a title and 3 questions."""
    rng = random.Random(seed)
    combos = list(itertools.product(TOPICS, PRODUCTS, SITUATIONS))
    rng.shuffle(combos)
    articles = []
    for k, ((topic, title, questions), product, situation) in enumerate(combos[:n]):
        p = f"{product} {situation}".strip()
        body = (f"Here is what to know about the {p}: {topic} rules, prices and times. "
                f"See https://shop.example/{topic}/{k} for details, or ask a person.")
        articles.append(Article(f"a{k}-{topic}", title.format(p=p),
                                tuple(q.format(p=p) for q in questions), (topic,), None, body))
    return KnowledgeBase(tuple(articles))


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def latency(answerer: Answerer, texts: list[str]) -> tuple[float, float, float, float]:
    """p50 and p99 in ms of answerer.query over texts, each paying its embedding: wall clock,
    then this thread's CPU time (what the query costs when the host's other load is taken out)."""
    answerer.engine._embed_one.cache_clear()
    for t in texts[:5]:  # warm-up (first ONNX runs allocate)
        answerer.query(t)
    answerer.engine._embed_one.cache_clear()
    times, cpu = [], []
    for t in texts:
        start, start_cpu = time.perf_counter(), time.thread_time()
        answerer.query(t)
        times.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    p50, p99, cpu50, cpu99 = (float(np.percentile(x, q) * 1e3)
                              for x in (times, cpu) for q in (50, 99))
    return p50, p99, cpu50, cpu99


COLD = """
import time, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from knowledge.answerer import Answerer
from knowledge.content import load_folder
from knowledge.embedder import Embedder
e = Embedder(); t1 = time.perf_counter()
a = Answerer.build(load_folder({demo!r}), e); t2 = time.perf_counter()
a.query("how long does shipping take"); t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    use_one_malloc_arena()  # as the gateway does; and release_free_memory after each build

    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", COLD.format(root=str(ROOT), demo=str(DEMO))],
                          capture_output=True, text=True, check=True, timeout=120)
    wall = time.perf_counter() - start
    load, build, first = (float(x) for x in proc.stdout.split())
    print(f"cold start to ready (fresh process)   {wall:6.2f} s  "
          f"(imports+model {load:.2f} s, build {build:.2f} s, first query {first * 1e3:.0f} ms)")

    embedder = Embedder()
    print(f"embedding model: {embedder.variant} (knowledge/quantize.py)")
    texts = [q.text for q in load_queries(DEMO / "queries-dev.jsonl")]
    kb = load_folder(DEMO)
    t = time.perf_counter()
    demo = Answerer.build(kb, embedder)
    build = time.perf_counter() - t
    release_free_memory()
    p50, p99, cpu50, cpu99 = latency(demo, texts)
    print(f"demo KB ({len(kb.articles)} articles): build {build:.2f} s (target <= ~1.5)  "
          f"p50 {p50:.2f} ms  p99 {p99:.2f} ms (CPU {cpu50:.2f} / {cpu99:.2f})  "
          f"RSS {rss_mb():.0f} MB")
    del demo

    big = synthetic_kb(args.articles)
    rng = random.Random(1)
    probes = list(texts)
    for a in rng.sample(big.articles, min(len(big.articles), args.queries)):
        probes.append(rng.choice(a.questions).replace("the ", "my ", 1) + " please")
    probes = probes[: args.queries]
    t = time.perf_counter()
    answerer = Answerer.build(big, embedder)
    build = time.perf_counter() - t
    release_free_memory()
    p50, p99, cpu50, cpu99 = latency(answerer, probes)
    print(f"synthetic KB ({len(big.articles)} articles, mode {answerer.engine.mode}): "
          f"build {build:.1f} s  p50 {p50:.2f} ms (target <= 5)  p99 {p99:.2f} ms (target <= 20)"
          f" (CPU {cpu50:.2f} / {cpu99:.2f})  RSS {rss_mb():.0f} MB (target <= 300)")
    embed = []
    for text in probes:
        s = time.perf_counter()
        embedder.encode([text])
        embed.append(time.perf_counter() - s)
    print(f"  of which the MiniLM embedding alone: p50 {np.percentile(embed, 50) * 1e3:.2f} ms  "
          f"p99 {np.percentile(embed, 99) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
