// Starts Swagger UI on /api/openapi.json. Everything it loads is served by this
// server: no CDN, no fonts, and no spec validator (validatorUrl: null stops
// Swagger UI from sending the document to validator.swagger.io).
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    deepLinking: true,
    docExpansion: "none",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    persistAuthorization: true,
    filter: true,
  });
});
