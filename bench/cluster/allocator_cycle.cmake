# cluster.allocator_cycle drives the allocator core directly.
target_link_libraries(${target} PRIVATE plexus_allocator)
