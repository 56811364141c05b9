"""Per-event campaigns and programs: `provisioner event new` renders templates/ once per session into
ordinary manifests (sessions → render → stamp), then plans and applies them like any manifest."""
