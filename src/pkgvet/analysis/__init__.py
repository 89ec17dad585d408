"""The Python source analysis, one file per step:

    facts.py         one walk per file: capability facts per scope, calls, imports, opens
    names.py         constant folding and aliases, so built names are read as what they are
    reachability.py  the package graph from its entry points: the phase of every file
    flows.py         groups of facts that run together across functions and modules
    grading.py       combinations of facts, weighed by phase, as findings of the registry
    prefilter.py     which unreached files are worth parsing at all
    parse.py         guarded parsing and statically decoded payloads in literals
    scan.py          the driver: package -> findings

Nothing in a scanned package is imported or run: everything here reads source text.
"""
