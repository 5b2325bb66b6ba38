//! `heap::release_free_memory` hands freed heap pages back to the system
//! (the server calls it after its one-off work: the catalogue build and the
//! drift check). On its own, glibc's allocator only returns the free memory
//! at the very top of a heap.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn freed_pages_below_the_top_of_the_heap_leave_the_resident_set() {
    const BLOCKS: usize = 8192; // 32 MiB in 4 KiB blocks: heap memory, not mmaps
    let resident_kib = || {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4
    };
    let mut blocks: Vec<Vec<u8>> = (0..BLOCKS).map(|i| vec![i as u8 | 1; 4096]).collect();
    // Allocated last, so above the others: their memory is not at the top.
    let top = vec![1u8; 4096];
    blocks.truncate(0);
    let freed = resident_kib();
    kubectl_mtv::heap::release_free_memory();
    let released = resident_kib();
    std::hint::black_box(&top);
    assert!(
        freed >= released + 16 * 1024,
        "32 MiB freed below the top of the heap: resident {freed} KiB before the release, {released} KiB after"
    );
}
