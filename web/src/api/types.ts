// The dashboard's wire types, generated from Rust (gocua_core::report::web) by scripts/bindings.sh.
export type { WebReport } from '$bindings/WebReport';
export type { WebSession } from '$bindings/WebSession';
export type { WebUser } from '$bindings/WebUser';
