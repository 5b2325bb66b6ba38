//! Generates the typed models of every CRD in ../crds/ (kopium, through
//! mtv-codegen) into OUT_DIR/models.rs.

fn main() {
    mtv_codegen::build_script("../crds", mtv_codegen::Generated::write_models);
}
