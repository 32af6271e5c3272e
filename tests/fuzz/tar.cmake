# tests/fuzz/tar.cmake: the libFuzzer target for tar entries (clang only), meant to be
# include()d from tests/fuzz/CMakeLists.txt. The layer sources are compiled into the target so
# they carry libFuzzer's coverage instrumentation.
set(BERTH_FUZZ_SAN -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
add_executable(fuzz_tar ${CMAKE_CURRENT_LIST_DIR}/fuzz_tar.c
               ${CMAKE_SOURCE_DIR}/daemon/layer/names.c
               ${CMAKE_SOURCE_DIR}/daemon/layer/stream.c
               ${CMAKE_SOURCE_DIR}/daemon/layer/unpack.c)
target_compile_options(fuzz_tar PRIVATE ${BERTH_FUZZ_SAN})
target_link_options(fuzz_tar PRIVATE ${BERTH_FUZZ_SAN})
target_link_libraries(fuzz_tar PRIVATE berth_common PkgConfig::LIBARCHIVE)
