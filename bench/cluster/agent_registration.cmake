# Real agents (the agent library) against the real master (cluster.h).
target_link_libraries(${target} PRIVATE plexus_agent plexus_master plexus_driver plexus_proto plexus_common)
