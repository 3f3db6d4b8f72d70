"""The alert engine: from a case to the alert versions partners receive.

How a zone is built, one module per step (all pure geometry, no I/O):

1. **Pieces** (``pieces``): one per trusted location, a geodesic disk (``geodesy``) or a
   corridor, sized by the policy (``zone_policy``); the zone is their union.
2. **Footprint** (``footprint``): the union clipped to the territory (``territory``; one
   convex piece without the general overlay: ``convex_clip``) is the exact zone; what is
   sent covers it with hole-free polygons within the vertex budget, built from tangents
   around its hull (``hull``, ``local_plane``) cut by where a polygon may run
   (``allowed_area``), tidied (``short_edges``, ``hole_free``, ``grid_cuts``,
   ``diagonal_cuts``) and measured (``overshoot``; its search compiled:
   ``distance_search``, ``stereographic``). All of it in the calling thread: the steps are
   many short calls, and a second thread trading the GIL with them at every call slowed
   them more than it took off.
   Without a territory, ``unclipped`` covers the bare pieces instead.
3. **Area** (``composer``): the footprint with the regions and provinces it touches and
   their shares (``territory.geocodes``), as the alert's CAP-shaped area.
"""
