throw new Error("cordon eval replica: inert data, never run");
module.exports = function UAParser(ua) { return { ua }; };
