# sandbox_lib: the modules behind e2e/sandbox (one job per module; see each module's header).
