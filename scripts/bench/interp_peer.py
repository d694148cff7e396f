"""CPython peer of scripts/bench/interp.aptp: the same three workloads, timed the same way."""
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


t0 = time.perf_counter()
f = fib(27)
t_fib = time.perf_counter() - t0

t1 = time.perf_counter()
acc = 0
i = 0
while i < 10000000:
    acc = acc + i * 2 - 1
    i = i + 1
t_loop = time.perf_counter() - t1

t2 = time.perf_counter()
counts = {}
for k in range(200000):
    key = "k" + str(k % 1000)
    counts[key] = counts.get(key, 0) + 1
t_map = time.perf_counter() - t2

print(f"fib(27) = {f}: {round(t_fib, 3)} s")
print(f"10M-iteration loop: {round(t_loop, 3)} s")
print(f"string/map workload (200k updates): {round(t_map, 3)} s")
