"""The contract with NovelAI, as data and pure rules: model capabilities, wire names, presets,
Anlas cost, tool sizes and the local validation of a request."""
