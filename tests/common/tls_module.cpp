// A plugin with dynamic TLS, loaded by tls_probe with dlopen as OpenMPI loads its components: 12 bytes of
// thread-local storage, which glibc gives the thread as a malloc'd block on first use.
extern "C" int* neuroemu_tls_block() {
    static thread_local int block[3];
    return block;
}
