-- Argo CD health of an EksCluster (resource.customizations.health.eksoperator.io_EksCluster in argocd-cm),
-- read from the status the operator writes: observedGeneration, phase and the Ready, Progressing and Degraded
-- conditions. A status of an older generation means Progressing (as for Flux's health checks); then Degraded
-- wins over Ready, so that a broken region is never shown as healthy.
local hs = {}

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

-- A status written for an older generation says nothing about the latest spec yet.
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "The operator has not yet acted on the latest change"
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    conditions[condition.type] = condition
  end
end

local function is_true(kind)
  return conditions[kind] ~= nil and conditions[kind].status == "True"
end

local function message_of(kind, fallback)
  if conditions[kind] ~= nil and conditions[kind].message ~= nil and conditions[kind].message ~= "" then
    return conditions[kind].message
  end
  return fallback
end

local phase = obj.status.phase

if phase == "Failed" or phase == "Invalid" then
  hs.status = "Degraded"
  hs.message = message_of("Degraded", "Phase " .. phase)
  return hs
end

if is_true("Degraded") then
  hs.status = "Degraded"
  hs.message = message_of("Degraded", "Degraded")
  return hs
end

if is_true("Ready") then
  hs.status = "Healthy"
  hs.message = message_of("Ready", "Ready in every region")
  return hs
end

hs.status = "Progressing"
if is_true("Progressing") then
  hs.message = message_of("Progressing", "Progressing")
elseif phase ~= nil then
  hs.message = "Phase " .. phase
else
  hs.message = "Waiting for the operator"
end
return hs
