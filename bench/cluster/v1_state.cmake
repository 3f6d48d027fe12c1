# The cluster benchmarks run the real master and the scheduler driver (cluster.h).
target_link_libraries(${target} PRIVATE plexus_master plexus_driver plexus_proto plexus_common)
