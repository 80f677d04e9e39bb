"""Documents the platform issues as PDF. `render.render_pdf` is the one place that renders them."""
