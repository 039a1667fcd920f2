"""The pure core: schedule maths, launch plans and status decisions. No I/O; the clock is a parameter."""
