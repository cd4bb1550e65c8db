// AlgoDiagnostics: source files, spans, diagnostics, renderers.
