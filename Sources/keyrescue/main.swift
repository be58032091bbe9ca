import RescueController

print("keyrescue: controller not built yet (\(Controller.userAgent))")
