"""Backhaul's benchmarks: ``make bench`` (``python -m bench``).

Each ``bench/bench_*.py`` module has ``run(report: Report) -> None``. Output is
CONTRACT's: ``BENCH <name> <value> <unit>`` per figure and ``RATIO <name> <value>``
per side-by-side comparison (how many times better than the baseline named in
<name>). Machines here are noisy, so every ratio compares two things measured in
the same run, interleaved; nothing ever fails on a number.
"""
