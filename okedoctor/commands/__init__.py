"""The sub-commands that belong to no subsystem package: `diagnose` and `checks`.

The others live beside their subsystem (`okedoctor.live.cli`, `okedoctor.fleet.cli`,
`okedoctor.sim.cli`, `okedoctor.demo`); `okedoctor.cli` registers them all by name.
"""
