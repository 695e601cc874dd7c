//! tapflow-controller: the bundled OpenFlow controller. Not built yet (issue 5); the crate exists so the workspace has its final layout.
